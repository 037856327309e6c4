using Dapper;
using Quiz.Ranking;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Rankings;

/// <summary>
/// Units ranked by participants, participation rate, rounds, points and average points, for the
/// whole campaign or one day: read from the store's projection <c>unit_daily_stats</c>, the same
/// figures the daily report, the export and the circulars quote, so a live board and a report
/// never disagree. The projection is a bus delivery behind the finishes (well under a second) and
/// exact: it claims each result once and catches itself up from the store after a lost event.
/// Counting them here instead of in the ranking engine takes the unit counters off every finish's
/// path (issues 12 and 18). Boards are cached and refreshed about once a second while read
/// (<see cref="BoardCache"/>), so a dashboard's request never runs the query itself; every node
/// reads the one store, so nodes agree.
/// </summary>
public sealed class UnitStandings : IAsyncDisposable
{
    private readonly Database _database;
    private readonly UnitDirectory _units;
    private readonly RankingStore _store;
    private readonly BoardCache _cache;
    private readonly ITimer _timer;

    public UnitStandings(Database database, UnitDirectory units, RankingStore store, RankingOptions options, TimeProvider time)
    {
        (_database, _units, _store) = (database, units, store);
        _cache = new BoardCache(options, time);
        _timer = _cache.StartRefreshing(RefreshAsync);
    }

    /// <summary>Units of a level ranked by a metric (cached about a second).</summary>
    public async Task<IReadOnlyList<UnitStanding>> GetBoardAsync(UnitBoardKey board, int count, CancellationToken ct = default) =>
        (await _cache.UnitsAsync(board.CampaignId, board.Day, BuildAsync)).Board(board.Level, board.Metric, board.ParentCode, count);

    /// <summary>One unit's figures with its rank among its siblings and nationally (cached about a second).</summary>
    public async Task<UnitStanding?> GetUnitAsync(UnitBoardKey board, string unitCode, CancellationToken ct = default) =>
        (await _cache.UnitsAsync(board.CampaignId, board.Day, BuildAsync)).Find(board.Level, board.Metric, unitCode);

    /// <summary>Re-reads every cached board now and publishes those that changed (the timer does this about once a second).</summary>
    public Task RefreshAsync() => _cache.RefreshAsync(fetchTop: null, BuildAsync);

    /// <summary>Boards that changed, for pushing to dashboards.</summary>
    public IAsyncEnumerable<RankingChange> WatchAsync(CancellationToken ct = default) => _cache.WatchAsync(ct);

    private sealed class Row
    {
        public required string Kind { get; init; }
        public required string Code { get; init; }
        public long Participants { get; init; }
        public long Rounds { get; init; }
        public long Points { get; init; }
    }

    /// <summary>
    /// The campaign's (or the day's) units as <see cref="UnitBoards"/>. The projection holds every
    /// level's own row (a person counts in their county, its city and its province); the boards
    /// roll up from the units people belong to directly, so each region's own part is its row less
    /// its children's rows. Whole campaign: distinct participants are the sum of each day's new ones.
    /// </summary>
    private async Task<UnitBoards> BuildAsync(string campaignId, DateOnly? day)
    {
        List<Row> rows;
        await using (var connection = await _database.OpenAsync())
        {
            // CAST: PostgreSQL sums bigints into numeric.
            rows = (day is { } d
                ? await connection.QueryAsync<Row>("""
                    SELECT unit_kind AS Kind, unit_code AS Code, participants AS Participants, rounds AS Rounds, points AS Points
                    FROM unit_daily_stats WHERE campaign_id = @campaignId AND day = @day
                    """, new { campaignId, day = d.ToString("yyyy-MM-dd") })
                : await connection.QueryAsync<Row>("""
                    SELECT unit_kind AS Kind, unit_code AS Code, CAST(SUM(new_participants) AS BIGINT) AS Participants,
                           CAST(SUM(rounds) AS BIGINT) AS Rounds, CAST(SUM(points) AS BIGINT) AS Points
                    FROM unit_daily_stats WHERE campaign_id = @campaignId GROUP BY unit_kind, unit_code
                    """, new { campaignId })).AsList();
        }
        return new UnitBoards(Leaves(rows), _store.Bases(campaignId));
    }

    private Dictionary<string, Tally> Leaves(List<Row> rows)
    {
        var regions = new Dictionary<string, (IReadOnlyList<string> Path, Tally Own)>(StringComparer.Ordinal);
        var leaves = new Dictionary<string, Tally>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var tally = new Tally(row.Participants, row.Rounds, row.Points);
            if (row.Kind == "organisation")
                leaves[UnitBoards.OrganisationLeaf(row.Code, _units.Organisation(row.Code)?.Type)] = tally;
            // Regions the directory no longer knows, and those below a county, are in their ancestors' rows.
            else if (_units.PathOf(row.Code) is { Count: >= 1 and <= 3 } path)
                regions[row.Code] = (path, tally);
        }
        foreach (var (_, (path, tally)) in regions.ToList())
            if (path.Count > 1 && regions.TryGetValue(path[^2], out var parent))
                regions[path[^2]] = (parent.Path, parent.Own - tally);
        foreach (var (_, (path, own)) in regions)
            if (!own.IsZero) leaves[UnitBoards.RegionLeaf(path)] = own;
        return leaves;
    }

    public ValueTask DisposeAsync()
    {
        _timer.Dispose();
        return ValueTask.CompletedTask;
    }
}
