using System.Diagnostics;
using Dapper;
using Microsoft.Data.Sqlite;

/// <summary>
/// The two queries a refresh of the store's unit boards runs (Quiz.Server's UnitStandings: the
/// whole campaign's sums, and one day's rows), on a SQLite `unit_daily_stats` of 10 campaign days
/// for today's units (3,500 regions, 200 organisations) and for 50,000 organisations more; each
/// without and with the index on (campaign, day) of migration 17. Prints the median of five runs.
///   dotnet run -c Release --project loadtests/Quiz.StoreBench -- unit-standings
/// </summary>
static class UnitStandingsBench
{
    // As UnitStandings.BuildAsync reads them, into the same shape of row.
    const string Campaign = """
        SELECT unit_kind AS Kind, unit_code AS Code, CAST(SUM(new_participants) AS BIGINT) AS Participants,
               CAST(SUM(rounds) AS BIGINT) AS Rounds, CAST(SUM(points) AS BIGINT) AS Points
        FROM unit_daily_stats WHERE campaign_id = @c GROUP BY unit_kind, unit_code
        """;
    const string Day = """
        SELECT unit_kind AS Kind, unit_code AS Code, participants AS Participants, rounds AS Rounds, points AS Points
        FROM unit_daily_stats WHERE campaign_id = @c AND day = @day
        """;

    sealed record Row(string Kind, string Code, long Participants, long Rounds, long Points);

    public static void Run()
    {
        foreach (var (regions, organisations) in new[] { (3_500, 200), (3_500, 50_200) })
        {
            var path = Path.Combine(Path.GetTempPath(), $"quiz-unitbench-{Environment.ProcessId}.db");
            try
            {
                using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
                c.Open();
                c.Execute("""
                    PRAGMA journal_mode = WAL;
                    CREATE TABLE unit_daily_stats (campaign_id TEXT NOT NULL, unit_kind TEXT NOT NULL, unit_code TEXT NOT NULL, day TEXT NOT NULL,
                        new_participants INTEGER NOT NULL DEFAULT 0, participants INTEGER NOT NULL DEFAULT 0, rounds INTEGER NOT NULL DEFAULT 0,
                        points INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (campaign_id, unit_kind, unit_code, day));
                    """);
                using (var tx = c.BeginTransaction())
                {
                    var random = new Random(1);
                    // Another campaign beside it (last year's), as a store holds.
                    foreach (var campaign in new[] { "2024-june", "2025-june" })
                        for (var d = 0; d < 10; d++)
                            foreach (var (kind, code) in Enumerable.Range(0, regions).Select(i => ("region", $"{110000 + i}"))
                                         .Concat(Enumerable.Range(0, organisations).Select(i => ("organisation", $"org-{i}"))))
                                c.Execute("INSERT INTO unit_daily_stats VALUES (@campaign, @kind, @code, @day, @n, @p, @r, @pts)",
                                    new { campaign, kind, code, day = $"2025-06-{11 + d}", n = random.Next(100), p = random.Next(200), r = random.Next(400), pts = random.Next(2000) }, tx);
                    tx.Commit();
                }
                foreach (var indexed in new[] { false, true })
                {
                    if (indexed) c.Execute("CREATE INDEX unit_daily_stats_day ON unit_daily_stats (campaign_id, day)"); // no ANALYZE: the store runs none
                    var campaignMs = Median(() => c.Query<Row>(Campaign, new { c = "2025-june" }).Count());
                    var dayMs = Median(() => c.Query<Row>(Day, new { c = "2025-june", day = "2025-06-15" }).Count());
                    var plan = string.Join("; ", c.Query("EXPLAIN QUERY PLAN " + Day, new { c = "2025-june", day = "2025-06-15" }).Select(r => (string)r.detail));
                    Console.WriteLine($"units={regions + organisations} rows={(regions + organisations) * 20} index={(indexed ? "campaign,day" : "none")} campaign_ms={campaignMs:F1} day_ms={dayMs:F1} day_plan=\"{plan}\"");
                }
            }
            finally
            {
                SqliteConnection.ClearAllPools();
                foreach (var f in new[] { path, path + "-wal", path + "-shm" }) File.Delete(f);
            }
        }
    }

    static double Median(Func<int> query)
    {
        query(); // warm
        var times = Enumerable.Range(0, 5).Select(_ => { var s = Stopwatch.StartNew(); query(); return s.Elapsed.TotalMilliseconds; }).Order().ToList();
        return times[2];
    }
}
