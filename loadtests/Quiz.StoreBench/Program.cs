using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;

// A start's "seen questions" read (RoundStore.SeenQuestionsAsync), three ways, on a SQLite store
// shaped like the end of `loadtests/run.sh sustained`: 10,000 people with 12 rounds of 5
// questions each, drawn from 300. Each way reads every person once, three times over; the
// figures are a read's wall time, the process's CPU time and the bytes the process allocated.
//   dotnet run -c Release --project loadtests/Quiz.StoreBench
// With the argument unit-standings it measures the unit boards' refresh instead (UnitStandingsBench.cs),
// with draw a start's question draw (DrawBench.cs), with projections the projections of finished
// rounds as the store writer applies them (ProjectionBench.cs), with rounds a round's own writes: its
// start, finish and places (RoundBench.cs). Each runs with the server's setting of the C heap
// (NativeHeap) unless given --glibc-default, to compare.
Console.WriteLine(args.Contains("--glibc-default") ? "the C heap: glibc's default"
    : Quiz.Server.Hosting.NativeHeap.KeepFreedPages() ? $"the C heap: glibc keeps {Quiz.Server.Hosting.NativeHeap.TrimThreshold >> 20} MiB freed (the server's setting)"
    : "the C heap: as it is (not glibc, or GLIBC_TUNABLES sets it)");
if (args is ["draw", ..])
{
    DrawBench.Run();
    return;
}
if (args is ["rounds", ..])
{
    await RoundBench.RunAsync();
    return;
}
if (args is ["projections", ..])
{
    await ProjectionBench.RunAsync();
    return;
}
if (args is ["unit-standings", ..])
{
    UnitStandingsBench.Run();
    return;
}
var path = Path.Combine(Path.GetTempPath(), $"quiz-storebench-{Environment.ProcessId}.db");
var store = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
const int People = 10_000, RoundsEach = 12;
try
{
    using (var c = new SqliteConnection(store))
    {
        c.Open();
        c.Execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE rounds (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, participant_id INTEGER NOT NULL, questions TEXT NOT NULL);
            CREATE INDEX rounds_person ON rounds (participant_id, campaign_id);
            """);
        using var tx = c.BeginTransaction();
        var random = new Random(1);
        for (var p = 1; p <= People; p++)
            for (var r = 0; r < RoundsEach; r++)
            {
                var questions = JsonSerializer.Serialize(Enumerable.Range(0, 5).Select(_ => new StoredRef($"q-{random.Next(300):000}", 1, [2, 0, 1, 3])));
                c.Execute("INSERT INTO rounds VALUES (@id, 'c', @p, @questions)", new { id = $"{p}-{r}", p, questions }, tx);
            }
        tx.Commit();
    }

    const string Lists = "SELECT questions FROM rounds WHERE participant_id = @participantId AND campaign_id = 'c'";
    var ways = new (string Name, Func<SqliteConnection, long, Task<HashSet<string>>> Read)[]
    {
        ("lists deserialised whole", async (c, p) =>
            (await c.QueryAsync<string>(Lists, new { participantId = p })).SelectMany(j => JsonSerializer.Deserialize<List<StoredRef>>(j)!).Select(q => q.Id).ToHashSet()),
        ("ids picked by a reader", async (c, p) =>
        {
            var seen = new HashSet<string>();
            foreach (var json in await c.QueryAsync<string>(Lists, new { participantId = p }))
            {
                var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
                var reader = new Utf8JsonReader(utf8.AsSpan(0, Encoding.UTF8.GetBytes(json, utf8)));
                while (reader.Read())
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("Id"u8) && reader.Read()) seen.Add(reader.GetString()!);
                ArrayPool<byte>.Shared.Return(utf8);
            }
            return seen;
        }),
        ("ids taken out by SQLite", async (c, p) => [.. await c.QueryAsync<string>("""
            SELECT DISTINCT json_extract(q.value, '$.Id') FROM rounds r, json_each(r.questions) q
            WHERE r.participant_id = @participantId AND r.campaign_id = 'c'
            """, new { participantId = p })]),
    };

    Console.WriteLine($"{People:N0} people, {RoundsEach} rounds of 5 questions each; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
    for (var pass = 1; pass <= 3; pass++)
        foreach (var (name, read) in ways)
        {
            async Task<long> ReadEveryone(int count)
            {
                long ids = 0;
                for (var p = 1; p <= count; p++)
                {
                    await using var c = new SqliteConnection(store);
                    await c.OpenAsync();
                    ids += (await read(c, p)).Count;
                }
                return ids;
            }
            await ReadEveryone(500); // warm-up
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var found = await ReadEveryone(People);
            wall.Stop();
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine($"pass {pass}  {name,-26} {wall.Elapsed.TotalMicroseconds / People,6:F1} µs a read, {used.TotalMicroseconds / People,6:F1} µs CPU, " +
                $"{(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1024.0 / People,5:F1} KiB allocated, {found / (double)People:F1} ids");
        }
}
finally
{
    SqliteConnection.ClearAllPools();
    foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*")) File.Delete(file);
}

record StoredRef(string Id, int Version, int[] Order);
