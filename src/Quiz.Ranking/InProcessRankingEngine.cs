using System.Collections.Concurrent;
using System.Diagnostics;

namespace Quiz.Ranking;

/// <summary>
/// The embedded default: every board in this process's memory, one lock per campaign. It keeps
/// nothing on disk: at start-up the host loads each running campaign with
/// <see cref="RebuildAsync"/> from the store, the source of truth.
/// </summary>
public sealed class InProcessRankingEngine : IRankingEngine
{
    readonly ConcurrentDictionary<string, CampaignBoards> campaigns = new(StringComparer.Ordinal);
    readonly BoardCache cache;
    readonly ITimer? refreshTimer;

    public InProcessRankingEngine(RankingOptions? options = null, TimeProvider? time = null)
    {
        options ??= new RankingOptions();
        time ??= TimeProvider.System;
        cache = new BoardCache(options, time);
        refreshTimer = cache.StartRefreshing(() => RefreshAsync());
    }

    /// <summary>A bare engine for recomputations (reconcile): no timers.</summary>
    InProcessRankingEngine(RankingOptions options) => cache = new BoardCache(options, TimeProvider.System);

    internal static InProcessRankingEngine CreateModel() => new(new RankingOptions());

    CampaignBoards Campaign(string id) => campaigns.GetOrAdd(id, static id => new CampaignBoards(id));

    public Task<FinishRanks> RecordFinishAsync(RoundFinished round, CancellationToken cancellationToken = default)
    {
        var encoded = round.Validate();
        return Task.FromResult(ApplyLive(Campaign(round.CampaignId), round, encoded, replay: false));
    }

    static FinishRanks ApplyLive(CampaignBoards campaign, RoundFinished round, long encoded, bool replay)
    {
        lock (campaign.Gate) return campaign.Apply(round, encoded, replay);
    }

    public bool NeedsCatchUp(string campaignId) => false;

    // The in-process engine never misses a round, so it never asks for catch-up.
    public event Action<string>? CatchUpNeeded { add { } remove { } }

    public event Action? Reconnected { add { } remove { } }

    public Task<IReadOnlyList<BoardEntry>> GetTopAsync(BoardKey board, int count, CancellationToken cancellationToken = default) =>
        cache.TopAsync(board, count, FetchTop);

    Task<IReadOnlyList<BoardEntry>> FetchTop(BoardKey key, int count) => Read(key, (_, b) => b.Range(0, count), []);

    public Task<BoardEntry?> GetMemberAsync(BoardKey board, long participantId, CancellationToken cancellationToken = default) =>
        Read(board, (c, b) => Member(c, board, b, participantId), null);

    static BoardEntry? Member(CampaignBoards campaign, BoardKey key, SortedBoard board, long participantId) =>
        ValueOn(campaign, key, board, participantId) is { } v ? new BoardEntry(participantId, board.RankOf(v), v) : null;

    static long? ValueOn(CampaignBoards campaign, BoardKey key, SortedBoard board, long participantId) =>
        campaign.Stages.TryGetValue(key.StageId, out var stage) && stage.Values.TryGetValue(participantId, out var v)
        && board.PositionOf(participantId, v) >= 0 ? v : null;

    public Task<IReadOnlyList<BoardEntry>> GetAroundAsync(BoardKey board, long participantId, int k, CancellationToken cancellationToken = default) =>
        Read(board, (c, b) =>
        {
            var me = Member(c, board, b, participantId);
            if (me is null) return (IReadOnlyList<BoardEntry>)[];
            var at = b.PositionOf(participantId, me.Value);
            return b.Range(at - k, k + 1 + Math.Min(k, at));
        }, []);

    public Task<long> GetSizeAsync(BoardKey board, CancellationToken cancellationToken = default) => Read(board, (_, b) => (long)b.Count, 0L);

    public Task<IReadOnlyList<BoardStanding?>> GetStandingsAsync(IReadOnlyList<BoardKey> boards, long participantId, CancellationToken cancellationToken = default)
    {
        var standings = new BoardStanding?[boards.Count];
        if (boards.Count == 0 || !campaigns.TryGetValue(BoardKey.CampaignOf(boards), out var campaign)) return Task.FromResult<IReadOnlyList<BoardStanding?>>(standings);
        // One lock for them all: the places are of one moment.
        lock (campaign.Gate)
            for (var i = 0; i < boards.Count; i++)
                if (campaign.Find(boards[i]) is { } b && Member(campaign, boards[i], b, participantId) is { } entry)
                    standings[i] = new BoardStanding(entry, b.Count);
        return Task.FromResult<IReadOnlyList<BoardStanding?>>(standings);
    }

    Task<T> Read<T>(BoardKey key, Func<CampaignBoards, SortedBoard, T> read, T none)
    {
        if (!campaigns.TryGetValue(key.CampaignId, out var campaign)) return Task.FromResult(none);
        lock (campaign.Gate) return Task.FromResult(campaign.Find(key) is { } b ? read(campaign, b) : none);
    }

    public Task<CampaignHealth> CheckAsync(string campaignId, CancellationToken cancellationToken = default)
    {
        var campaign = Campaign(campaignId);
        lock (campaign.Gate) return Task.FromResult(new CampaignHealth(true, true, campaign.AppliedRounds));
    }

    public Task RefreshAsync(CancellationToken cancellationToken = default) => cache.RefreshAsync(FetchTop);

    public async Task<RebuildReport> RebuildAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var live = Campaign(campaignId);
        lock (live.Gate) live.Holding = true;
        var fresh = new CampaignBoards(campaignId);
        long rounds = 0, last = 0;
        try
        {
            // Build aside while readers keep the old boards; rounds finished meanwhile answer
            // Pending and are caught by further passes, until a pass finds (almost) nothing new.
            for (var pass = 0; pass < 5; pass++)
            {
                var (n, max) = await ReplayAsync(fresh, roundsAfter(last), cancellationToken);
                rounds += n;
                last = Math.Max(last, max);
                if (n < 100) break;
            }
            lock (live.Gate) campaigns[campaignId] = fresh;
        }
        finally
        {
            lock (live.Gate) live.Holding = false;
        }
        cache.Invalidate(campaignId);
        // A finish that raced the swap went Pending against the old boards: one last pass on the
        // live ones picks it up (duplicates are skipped by round id).
        var (tail, _) = await ReplayAsync(fresh, roundsAfter(last), cancellationToken, locked: true);
        return new RebuildReport(campaignId, rounds + tail, fresh.Participants, Stopwatch.GetElapsedTime(started));
    }

    internal static async Task<(long Count, long MaxRoundId)> ReplayAsync(CampaignBoards target, IAsyncEnumerable<RoundFinished> rounds, CancellationToken cancellationToken, bool locked = false)
    {
        long n = 0, max = 0;
        await foreach (var round in rounds.WithCancellation(cancellationToken))
        {
            if (round.CampaignId != target.CampaignId) throw new ArgumentException($"Round {round.RoundId} belongs to campaign {round.CampaignId}, not {target.CampaignId}.");
            var encoded = round.Validate();
            if (locked) ApplyLive(target, round, encoded, replay: true);
            else target.Apply(round, encoded, replay: true);
            n++;
            max = Math.Max(max, round.RoundId);
        }
        return (n, max);
    }

    public async Task<ReconcileReport> ReconcileAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, CancellationToken cancellationToken = default)
    {
        var model = new CampaignBoards(campaignId);
        await ReplayAsync(model, rounds, cancellationToken);
        var live = Campaign(campaignId);
        return await Reconciler.CompareAsync(model, new Reconciler.Live(
            key => Task.FromResult(Locked(live, () => (long)(live.Find(key)?.Count ?? 0))),
            (key, ids) => Task.FromResult(Locked(live, () =>
                live.Find(key) is { } board ? ids.Select(id => ValueOn(live, key, board, id)).ToArray() : new long?[ids.Count]))),
            cancellationToken);
    }

    static T Locked<T>(CampaignBoards campaign, Func<T> read)
    {
        lock (campaign.Gate) return read();
    }

    public ValueTask DisposeAsync()
    {
        refreshTimer?.Dispose();
        return ValueTask.CompletedTask;
    }
}
