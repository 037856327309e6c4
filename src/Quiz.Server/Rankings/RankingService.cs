using Dapper;
using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Rankings;

/// <summary>
/// The server's side of ranking: loads and rebuilds the engine from the store, and turns boards
/// into what pages show (names, scores, durations). The engine itself knows only ids and numbers.
/// </summary>
public sealed class RankingService(
    IRankingEngine engine, RankingStore store, RankingOptions options, CampaignCatalog campaigns, UnitDirectory units,
    Database database, ILogger<RankingService> logger)
{
    public IRankingEngine Engine => engine;

    /// <summary>
    /// At start-up: every campaign's boards made whole from the store. The
    /// in-process engine starts empty, so it always replays; a shared Redis keeps its boards, so it
    /// replays only a campaign whose keys are gone or whose applied rounds differ from the store's
    /// results (a node killed between a commit and its ranking leaves exactly that), and leaves
    /// alone a campaign another node holds for its rebuild.
    /// </summary>
    public async Task LoadAsync(CancellationToken ct = default)
    {
        foreach (var campaign in campaigns.All)
        {
            try
            {
                var (stored, _) = await store.CountAsync(campaign.Id, afterId: 0, ct);
                if (options.Engine == "Redis" && !engine.NeedsCatchUp(campaign.Id))
                {
                    var health = await engine.CheckAsync(campaign.Id, ct);
                    if (!health.Reachable || health.Held || health.KeysPresent && health.AppliedRounds == stored || !health.KeysPresent && stored == 0) continue;
                }
                var report = await engine.RebuildAsync(campaign.Id, RoundsForRebuild(campaign.Id, stored, progress: null, ct), ct);
                logger.LogInformation("Rankings of {Campaign}: {Rounds} rounds of {Participants} participants loaded in {Elapsed}",
                    campaign.Id, report.Rounds, report.Participants, report.Elapsed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One campaign's trouble must not keep the platform down; its ranks answer pending
                // and the watchdog (RankingWatchdog) tries again.
                logger.LogError(e, "The rankings of {Campaign} could not be loaded", campaign.Id);
            }
        }
    }

    public async Task<(RebuildReport Rebuild, ReconcileReport Reconcile)> RebuildAsync(string campaignId, Action<RebuildProgress>? progress = null, CancellationToken ct = default)
    {
        var (stored, _) = await store.CountAsync(campaignId, afterId: 0, ct);
        var rebuild = await engine.RebuildAsync(campaignId, RoundsForRebuild(campaignId, stored, progress, ct), ct);
        return (rebuild, await ReconcileAsync(campaignId, ct));
    }

    /// <summary>How often a rebuild says how far it is: a national campaign's 20 M rounds take minutes.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The store's rounds for every rebuild of the engine (start-up, admin, the watchdog's catch-up).
    /// The first pass over them, from the start (the bulk of the work), is counted: every
    /// <see cref="ProgressInterval"/> and at its end the log, and <paramref name="progress"/> when
    /// given, say how many of the <paramref name="total"/> stored rounds are read.
    /// </summary>
    public Func<long, IAsyncEnumerable<RoundFinished>> RoundsForRebuild(string campaignId, long total, Action<RebuildProgress>? progress, CancellationToken ct)
    {
        void Report(long read)
        {
            logger.LogInformation("Rankings of {Campaign}: rebuilding, {Read} of {Total} rounds read", campaignId, read, total);
            progress?.Invoke(new RebuildProgress(campaignId, read, total));
        }
        return after => after == 0 ? Counted(store.RoundsAfter(campaignId, 0, ct), Report) : store.RoundsAfter(campaignId, after, ct);

        static async IAsyncEnumerable<RoundFinished> Counted(IAsyncEnumerable<RoundFinished> rounds, Action<long> report)
        {
            long read = 0;
            var last = System.Diagnostics.Stopwatch.GetTimestamp();
            await foreach (var round in rounds)
            {
                yield return round;
                read++;
                if ((read & 4095) == 0 && System.Diagnostics.Stopwatch.GetElapsedTime(last) >= ProgressInterval)
                {
                    report(read);
                    last = System.Diagnostics.Stopwatch.GetTimestamp();
                }
            }
            report(read);
        }
    }

    /// <summary>The boards against a recomputation from the store.</summary>
    public async Task<ReconcileReport> ReconcileAsync(string campaignId, CancellationToken ct = default)
    {
        // A catch-up writes the boards while it runs: compared halfway, the rounds not yet written
        // back would read as differences that are gone a moment later.
        if (engine.NeedsCatchUp(campaignId) || (await engine.CheckAsync(campaignId, ct)).Held)
            throw new RankingUnavailableException($"The rankings of {campaignId} are being caught up from the store; reconcile again when that is done.", null);
        return await engine.ReconcileAsync(campaignId, store.RoundsAfter(campaignId, 0, ct), ct);
    }

    // ---- views ----------------------------------------------------------------------------

    public sealed record Entry(long Rank, long ParticipantId, string Nickname, string? Region, int Score, int DurationMs);
    public sealed record Standing(long Rank, int Score, int DurationMs, long BoardSize);

    public sealed record UnitRow(
        string Code, string Name, string Level, string? ParentCode, long Participants, long Headcount, double ParticipationRate,
        long Rounds, long Points, double AveragePoints, long SiblingRank, long NationalRank);

    public async Task<List<Entry>> NamedAsync(IReadOnlyList<BoardEntry> entries, CancellationToken ct = default)
    {
        if (entries.Count == 0) return [];
        await using var connection = await database.OpenAsync(ct);
        var people = (await connection.QueryAsync<(long Id, string Nickname, string RegionCode)>(
                $"SELECT id, nickname, region_code FROM participants WHERE id {database.InList("ids")}", new { ids = entries.Select(e => e.ParticipantId).ToArray() }))
            .ToDictionary(p => p.Id);
        return entries.Select(e =>
        {
            var person = people.GetValueOrDefault(e.ParticipantId);
            return Named(e, person.Nickname, person.RegionCode);
        }).ToList();
    }

    /// <summary>An entry named by what the caller already knows of the person (no read of the store).</summary>
    public Entry Named(BoardEntry e, string? nickname, string? regionCode)
    {
        var parts = e.Parts;
        return new Entry(e.Rank, e.ParticipantId, nickname ?? "?", regionCode is null ? null : units.Region(regionCode)?.Name,
            parts.Score, parts.DurationUnits * RankScore.DurationUnitMs);
    }

    /// <summary>The person's standing on each board (of one campaign), read in one engine call; null where they are not on it.</summary>
    public async Task<IReadOnlyList<(BoardEntry Entry, Standing Standing)?>> StandingsAsync(IReadOnlyList<BoardKey> boards, long participantId, CancellationToken ct = default) =>
        (await engine.GetStandingsAsync(boards, participantId, ct)).Select(s =>
        {
            if (s is not { Entry: var entry }) return ((BoardEntry, Standing)?)null;
            var parts = entry.Parts;
            return (entry, new Standing(entry.Rank, parts.Score, parts.DurationUnits * RankScore.DurationUnitMs, s.Size));
        }).ToList();

    public UnitRow Row(UnitStanding s) => new(s.Code, NameOf(s.Level, s.Code), LevelName(s.Level), s.ParentCode, s.Participants, s.Headcount,
        s.ParticipationRate, s.Rounds, s.Points, s.AveragePoints, s.SiblingRank, s.NationalRank);

    private string NameOf(UnitLevel level, string code) => level switch
    {
        UnitLevel.Organisation => units.Organisation(code)?.Name ?? code,
        UnitLevel.OrganisationType => code,
        _ => units.Region(code)?.Name ?? code,
    };

    public static string LevelName(UnitLevel level) => level switch
    {
        UnitLevel.Province => "province",
        UnitLevel.City => "city",
        UnitLevel.County => "county",
        UnitLevel.OrganisationType => "organisation-type",
        _ => "organisation",
    };

    public static UnitLevel? ParseLevel(string? level) => level switch
    {
        "province" or null => UnitLevel.Province,
        "city" => UnitLevel.City,
        "county" => UnitLevel.County,
        "organisation-type" => UnitLevel.OrganisationType,
        "organisation" => UnitLevel.Organisation,
        _ => null,
    };

    public static UnitMetric? ParseMetric(string? metric) => metric switch
    {
        "participants" or null => UnitMetric.Participants,
        "participation-rate" => UnitMetric.ParticipationRate,
        "rounds" => UnitMetric.Rounds,
        "points" => UnitMetric.Points,
        "average-points" => UnitMetric.AveragePoints,
        _ => null,
    };

    /// <summary>The ranking level of a region (depth 1..3) or an organisation.</summary>
    public UnitLevel? LevelOf(string code) =>
        units.Region(code) is { Depth: >= 1 and <= 3 } region ? (UnitLevel)(region.Depth - 1)
        : units.Organisation(code) is not null ? UnitLevel.Organisation
        : null;
}

/// <summary>How far a rebuild has read the store's rounds (of the rounds stored when it began).</summary>
public readonly record struct RebuildProgress(string CampaignId, long Read, long Total);
