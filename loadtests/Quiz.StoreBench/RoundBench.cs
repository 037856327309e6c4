using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Quiz.Server.Play;
using Quiz.Server.Storage;

/// <summary>
/// A round's own writes as the store writer applies them on SQLite: the start's claim (the cap,
/// the attempts upsert, the round inserted), the finish (the result, its five answers, the round
/// marked finished) and the places kept after the reply (RoundStore's own code), for 10,000
/// people playing a round after another, 16 rounds of each kind a transaction on the writer's
/// connection (its statements kept), on a fresh store migrated by the server's own migrations.
/// The figures are each part's wall time and bytes allocated a round, the apply alone (the
/// COMMIT's fsync left out; the apply runs on one thread, so on a quiet machine its wall time is
/// its CPU time), medians of five passes after two to warm up:
///   dotnet run -c Release --project loadtests/Quiz.StoreBench -- rounds [--glibc-default]
/// </summary>
static class RoundBench
{
    const int People = 10_000, RoundsABatch = 16, Batches = 300, WarmUps = 2, Passes = 5;

    public static async Task RunAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"quiz-roundbench-{Environment.ProcessId}");
        try
        {
            var database = new Database(Options.Create(new StorageOptions { DataDir = dir }));
            await new Migrator(database, NullLogger<Migrator>.Instance).MigrateAsync();
            await using var connection = await database.OpenWriterAsync();
            await using (var tx = await connection.BeginTransactionAsync())
            {
                await connection.ExecuteAsync("INSERT INTO regions (code, name, level, depth, headcount_base) VALUES ('110000', '北京市', 'province', 1, 1000)", transaction: tx);
                await connection.ExecuteAsync("""
                    INSERT INTO participants (id, mobile_hash, mobile_masked, nickname, region_code, track, registered_at)
                    VALUES (@id, 'h' || @id, '138****0000', '测试', '110000', 'public', '2026-06-12T00:00:00Z')
                    """, Enumerable.Range(1, People).Select(id => new { id }), tx);
                await tx.CommitAsync();
            }
            var random = new Random(1);
            long next = 0;
            var parts = new[] { "start", "finish", "places" };
            var medians = parts.ToDictionary(p => p, _ => (Walls: new List<double>(), Bytes: new List<double>()));
            Console.WriteLine($"{Batches} batches of {RoundsABatch} rounds a pass, {People:N0} people; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            for (var pass = 0; pass < WarmUps + Passes; pass++)
            {
                var sums = parts.ToDictionary(p => p, _ => (Wall: 0.0, Bytes: 0L));
                for (var b = 0; b < Batches; b++)
                {
                    var rounds = Enumerable.Range(0, RoundsABatch).Select(_ => Started(++next, 1 + random.Next(People))).ToList();
                    var finished = rounds.Select(r => Finished(r, random)).ToList();
                    await using var tx = await connection.BeginTransactionAsync();
                    var mark = Mark();
                    foreach (var r in rounds)
                        if ((await RoundStore.ClaimOnSqliteAsync(connection, tx, r, 1_000, "", 0, "bench")).AttemptsLeft is null)
                            throw new InvalidOperationException("a claim was refused");
                    mark = Add(sums, "start", mark);
                    var committed = await RoundStore.OneByOneAsync(connection, tx, finished);
                    mark = Add(sums, "finish", mark);
                    await ((IWriteKind)RoundStore.Places).ApplyAsync(connection, tx,
                        [.. committed.Select(c => (object?)new RoundStore.PlaceRow(c.ResultId, 1 + random.Next(People), People, 1 + random.Next(100), 100, null, null))]);
                    Add(sums, "places", mark);
                    await tx.CommitAsync();
                }
                Console.WriteLine($"{(pass < WarmUps ? "warm-up" : "pass")} {pass + 1}: " + string.Join(", ", parts.Select(p =>
                    $"{p} {sums[p].Wall / (Batches * RoundsABatch):F1} µs {(double)sums[p].Bytes / (Batches * RoundsABatch):F0} B")) + " a round");
                if (pass >= WarmUps)
                    foreach (var p in parts)
                    {
                        medians[p].Walls.Add(sums[p].Wall / (Batches * RoundsABatch));
                        medians[p].Bytes.Add((double)sums[p].Bytes / (Batches * RoundsABatch));
                    }
            }
            Console.WriteLine("median a round: " + string.Join(", ", parts.Select(p => $"{p} {Median(medians[p].Walls):F1} µs {Median(medians[p].Bytes):F0} B"))
                + $"; all {parts.Sum(p => Median(medians[p].Walls)):F1} µs {parts.Sum(p => Median(medians[p].Bytes)):F0} B");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    static (long Bytes, long At) Mark() => (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());

    static (long, long) Add(Dictionary<string, (double Wall, long Bytes)> sums, string part, (long Bytes, long At) since)
    {
        var now = Mark();
        var (wall, bytes) = sums[part];
        sums[part] = (wall + Stopwatch.GetElapsedTime(since.At, now.At).TotalMicroseconds, bytes + now.Bytes - since.Bytes);
        return now;
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    static readonly DateTimeOffset Day = new(2026, 6, 15, 8, 0, 0, TimeSpan.Zero);

    static RoundStore.StartedRound Started(long n, long participant) => new(
        $"r{n:x12}", "bench", "main", participant, "2026-06-15", Day.AddSeconds(n), Day.AddSeconds(n + 120),
        JsonSerializer.Serialize(Enumerable.Range(0, 5).Select(i => new RoundStore.StoredRef($"q-{(n * 7 + i) % 427:000}", 1, [2, 0, 1, 3]))), null);

    static RoundStore.FinishedRound Finished(RoundStore.StartedRound r, Random random)
    {
        var answers = Enumerable.Range(0, 5).Select(i => new RoundStore.AnswerRow(i, $"q-{i:000}", 1, ((char)('A' + random.Next(4))).ToString(),
            random.Next(3) > 0, 20, 3_000 + random.Next(5_000))).ToList();
        return new(r.Id, r.CampaignId, r.StageId, r.ParticipantId, r.Day, answers.Sum(a => a.Points), 100, answers.Count(a => a.Correct), 40_000,
            r.StartedAt.AddSeconds(40), false, null, 3, answers);
    }
}
