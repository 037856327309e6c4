using System.Diagnostics;
using System.Text.Json;
using Quiz.Server.Play;
using Quiz.Server.Questions;

/// <summary>
/// A start's question draw (QuestionDraw), the direct draw against the scan it replaced, on the
/// question bank of this checkout (every question in question-bank/questions, by its category),
/// a person who has seen 30 of them, rounds of 5 spread over categories:
///   dotnet run -c Release --project loadtests/Quiz.StoreBench -- draw
/// The figures are a draw's time and the bytes it allocated, five times over.
/// </summary>
static class DrawBench
{
    public static void Run()
    {
        var root = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(root, "question-bank"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no question-bank folder above the bench");
        var pool = Directory.GetFiles(Path.Combine(root, "question-bank", "questions"), "*.json")
            .Select(file => JsonDocument.Parse(File.ReadAllText(file)).RootElement)
            .SelectMany(file => (file.ValueKind == JsonValueKind.Array ? file : file.GetProperty("questions")).EnumerateArray())
            .Select(q => new StoredQuestion(new Question(q.GetProperty("id").GetString()!, QuestionTypes.Single, "?", ["A", "B"], "A", "", "", ["general"],
                q.GetProperty("category").GetString()!, 1, []), 1))
            .ToList();
        var seen = pool.Where((_, i) => i % (pool.Count / 30) == 0).Take(30).Select(q => q.Question.Id).ToHashSet();
        var candidates = new QuestionDraw.Candidates(pool);
        Console.WriteLine($"{pool.Count} questions in {candidates.ByCategory.Length} categories, {seen.Count} seen, rounds of 5 spread over categories");
        var random = new Random(1);
        const int Draws = 50_000;
        for (var rep = 0; rep < 5; rep++)
        {
            var (direct, directBytes) = Time(() => QuestionDraw.Pick(candidates, 5, seen, spread: true, random));
            var (scan, scanBytes) = Time(() => QuestionDraw.PickByScan(pool, 5, seen, spread: true, random));
            Console.WriteLine($"direct {direct:F2} µs {directBytes} B a draw; scan {scan:F2} µs {scanBytes} B a draw");
        }

        static (double Microseconds, long Bytes) Time(Func<List<StoredQuestion>> draw)
        {
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Draws; i++) draw();
            return (Stopwatch.GetElapsedTime(started).TotalMicroseconds / Draws, (GC.GetAllocatedBytesForCurrentThread() - bytes) / Draws);
        }
    }
}
