using System.Diagnostics;

namespace Quiz.Cluster.Tests.Infrastructure;

/// <summary>Waiting for what the cluster brings about, at a pace its nodes do not notice (twice a second).</summary>
public static class ClusterWait
{
    /// <summary>Polls until the value satisfies the condition or the time is up, and returns the last value.</summary>
    public static async Task<T> EventuallyAsync<T>(TimeSpan within, Func<Task<T>> read, Func<T, bool> done)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value) || waited.Elapsed > within) return value;
            await Task.Delay(500);
        }
    }
}
