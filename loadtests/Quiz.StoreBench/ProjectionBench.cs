using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Quiz.Server.Events;
using Quiz.Server.Play;
using Quiz.Server.Storage;

/// <summary>
/// The two projections of finished rounds (question_stats and unit_daily_stats) as the store
/// writer applies them: batches of 16 rounds of 5 answers (a bus message's most,
/// CompletedRounds.MaxRounds) over a bank of 427 questions, by people of 3,000 counties (each in its
/// city and province) and a quarter of them of one of 200 organisations, each batch in its own transaction on
/// the writer's connection (its statements kept), on a fresh SQLite store migrated by the server's
/// own migrations. The figures are a batch's wall time and the bytes it allocated, the apply alone
/// (the COMMIT's fsync left out; the apply runs synchronously on one thread, so on a quiet machine
/// its wall time is its CPU time), medians of five passes after two to warm up:
///   dotnet run -c Release --project loadtests/Quiz.StoreBench -- projections
/// </summary>
static class ProjectionBench
{
    const int Questions = 427, RoundsABatch = 16, Batches = 400, WarmUps = 2, Passes = 5;

    public static async Task RunAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"quiz-projectionbench-{Environment.ProcessId}");
        try
        {
            var database = new Database(Options.Create(new StorageOptions { DataDir = dir }));
            await new Migrator(database, NullLogger<Migrator>.Instance).MigrateAsync();
            await using var connection = await database.OpenWriterAsync();
            var random = new Random(1);
            long nextResult = 0;
            var (walls, bytes) = (new List<double>(), new List<double>());
            Console.WriteLine($"{Batches} batches of {RoundsABatch} rounds of 5 answers over {Questions} questions a pass; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            for (var pass = 0; pass < WarmUps + Passes; pass++)
            {
                var (wallSum, byteSum) = (0.0, 0L);
                for (var b = 0; b < Batches; b++)
                {
                    var rounds = Enumerable.Range(0, RoundsABatch).Select(_ => Round(++nextResult, random)).ToList();
                    await using var tx = await connection.BeginTransactionAsync();
                    var (allocated0, started) = (GC.GetAllocatedBytesForCurrentThread(), Stopwatch.GetTimestamp());
                    await QuestionStatsConsumer.ApplyAsync(connection, tx, rounds);
                    await UnitDailyStatsConsumer.ApplyAsync(connection, tx, rounds);
                    wallSum += Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                    byteSum += GC.GetAllocatedBytesForCurrentThread() - allocated0;
                    await tx.CommitAsync();
                }
                Console.WriteLine($"{(pass < WarmUps ? "warm-up" : "pass")} {pass + 1}: a batch {wallSum / Batches:F0} µs, {(double)byteSum / Batches:F0} B allocated");
                if (pass >= WarmUps) (walls, bytes) = ([.. walls, wallSum / Batches], [.. bytes, (double)byteSum / Batches]);
            }
            Console.WriteLine($"median: a batch {Median(walls):F0} µs ({Median(walls) / RoundsABatch:F1} µs a round), {Median(bytes):F0} B allocated ({Median(bytes) / RoundsABatch:F0} B a round)");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>A county's path: province, city, county (30 provinces of 10 cities of 10 counties).</summary>
    static string[] Regions(Random random)
    {
        var (province, city, county) = (11 + random.Next(30), random.Next(10), random.Next(10));
        return [$"{province}0000", $"{province}{city:00}00", $"{province}{city:00}{county:00}"];
    }

    static RoundCompleted Round(long resultId, Random random) => new(
        resultId, $"r{resultId}", "bench", "main", 1 + random.Next(10_000), new DateOnly(2026, 6, 15), 80, 100, 60_000,
        DateTimeOffset.UnixEpoch, Regions(random), random.Next(4) == 0 ? $"org-{random.Next(200)}" : null, "bank", FirstInCampaign: random.Next(3) == 0,
        FirstOfDay: random.Next(2) == 0,
        [.. Enumerable.Range(0, 5).Select(_ => new CompletedAnswer($"q-{random.Next(Questions):000}", 1, ((char)('A' + random.Next(4))).ToString(), random.Next(3) > 0))]);
}
