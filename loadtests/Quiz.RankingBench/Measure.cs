using System.Diagnostics;
using HdrHistogram;

namespace Quiz.RankingBench;

sealed record Figures(string Name, long Operations, double PerSecond, double P50Ms, double P99Ms)
{
    public static readonly Figures None = new("none", 0, double.NaN, double.NaN, double.NaN);
    public override string ToString() => $"{Name,-34} {Operations,10:N0} ops  {PerSecond,10:N0}/s  p50 {P50Ms,7:F3} ms  p99 {P99Ms,7:F3} ms";
}

static class Measure
{
    /// <summary>As fast as it goes: <paramref name="workers"/> loops, each awaiting its own operations (so up to that many in flight).</summary>
    public static async Task<Figures> SaturatedAsync(string name, long count, int workers, Func<long, Task> operation)
    {
        var histograms = new LongHistogram[workers];
        long next = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var h = histograms[w] = new LongHistogram(TimeSpan.TicksPerMinute, 3);
            long i;
            while ((i = Interlocked.Increment(ref next)) <= count)
            {
                var t0 = Stopwatch.GetTimestamp();
                await operation(i);
                h.RecordValue(Ticks(Stopwatch.GetTimestamp() - t0));
            }
        })));
        return Summarise(name, count, Stopwatch.GetElapsedTime(started), histograms);
    }

    /// <summary>
    /// At a fixed rate: operations are started on schedule whether or not earlier ones finished,
    /// and latency counts from the scheduled start (no coordinated omission).
    /// </summary>
    public static async Task<Figures> PacedAsync(string name, double perSecond, TimeSpan duration, Func<long, Task> operation)
    {
        var fromSchedule = new LongHistogram(TimeSpan.TicksPerMinute, 3);
        var service = new LongHistogram(TimeSpan.TicksPerMinute, 3);
        var total = (long)(perSecond * duration.TotalSeconds);
        // Completions are counted, not kept: a list of every operation's task kept them all alive,
        // so each GC copied every operation since the last one (pauses of ~17 ms, in the p99).
        long completed = 0;
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = Stopwatch.GetTimestamp();
        // The issuer is a thread of its own sleeping 1 ms at a time: a Task.Delay loop on the
        // busy thread pool wakes late and would charge its own lateness to the operations.
        var issuer = new Thread(() =>
        {
            long issued = 0;
            while (issued < total)
            {
                var due = Math.Min(total, (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * perSecond));
                for (; issued < due; issued++)
                {
                    var scheduled = started + (long)(issued / perSecond * Stopwatch.Frequency);
                    var t0 = Stopwatch.GetTimestamp();
                    operation(issued + 1).ContinueWith(_ =>
                    {
                        var end = Stopwatch.GetTimestamp();
                        lock (service)
                        {
                            fromSchedule.RecordValue(Math.Max(0, Ticks(end - scheduled)));
                            service.RecordValue(Ticks(end - t0));
                        }
                        if (Interlocked.Increment(ref completed) == total) allDone.TrySetResult();
                    }, TaskContinuationOptions.ExecuteSynchronously);
                }
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        issuer.Start();
        if (total > 0) await allDone.Task;
        var elapsed = Stopwatch.GetElapsedTime(started);
        var f = Summarise(name + " (from schedule)", total, elapsed, [fromSchedule]);
        Summarise(name + " (service time)", total, elapsed, [service]);
        return f;
    }

    static long Ticks(long stopwatchTicks) => stopwatchTicks * TimeSpan.TicksPerSecond / Stopwatch.Frequency;

    static Figures Summarise(string name, long count, TimeSpan elapsed, LongHistogram[] histograms)
    {
        var all = new LongHistogram(TimeSpan.TicksPerMinute, 3);
        foreach (var h in histograms) if (h is not null) all.Add(h);
        double Ms(double p) => all.GetValueAtPercentile(p) / (double)TimeSpan.TicksPerMillisecond;
        var f = new Figures(name, count, count / elapsed.TotalSeconds, Ms(50), Ms(99));
        Console.WriteLine(f);
        return f;
    }
}
