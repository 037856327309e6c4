using System.Collections.Concurrent;

namespace Quiz.Server.Hosting;

/// <summary>
/// At most <c>permits</c> acquisitions a key in a fixed window, with no timer and no work between
/// acquisitions: a key's window opens at its first acquisition, and the first one after it ended
/// opens the next. System.Threading.RateLimiting's partitioned limiter, used here before, walks
/// every partition ten times a second to replenish it (its heartbeat): with a partition a
/// participant, 2 % of a core at 10,000 partitions and 3.9 % at 70,000 while nothing is acquired
/// (BENCHMARKS.md, "Rate limits without a heartbeat"), growing with the people playing. Windows
/// that ended are dropped by a sweep at most once a window, on the thread pool.
/// </summary>
public sealed class FixedWindows<TKey>(int permits, TimeSpan window, TimeProvider clock) where TKey : notnull
{
    private sealed class Window(long opened)
    {
        public long Opened = opened;
        public int Used;
        /// <summary>Taken out of the map by the sweep: an acquirer that still holds it looks again.</summary>
        public bool Dropped;
    }

    private readonly ConcurrentDictionary<TKey, Window> _windows = new();
    private long _swept = clock.GetTimestamp();
    private int _sweeping;

    /// <summary>Keys with a window now (tests).</summary>
    public int Count => _windows.Count;

    /// <param name="retryAfterSeconds">When refused: whole seconds until the key's window ends (at least 1), as a 429's Retry-After says.</param>
    public bool TryAcquire(TKey key, out int retryAfterSeconds)
    {
        var now = clock.GetTimestamp();
        SweepIfDue(now);
        while (true)
        {
            var w = _windows.GetOrAdd(key, static (_, opened) => new Window(opened), now);
            lock (w)
            {
                if (w.Dropped) continue;
                if (clock.GetElapsedTime(w.Opened, now) >= window)
                {
                    w.Opened = now;
                    w.Used = 0;
                }
                if (w.Used < permits)
                {
                    w.Used++;
                    retryAfterSeconds = 0;
                    return true;
                }
                retryAfterSeconds = Math.Max(1, (int)Math.Ceiling((window - clock.GetElapsedTime(w.Opened, now)).TotalSeconds));
                return false;
            }
        }
    }

    private void SweepIfDue(long now)
    {
        if (clock.GetElapsedTime(Interlocked.Read(ref _swept), now) < window || Interlocked.Exchange(ref _sweeping, 1) == 1) return;
        Interlocked.Exchange(ref _swept, now);
        ThreadPool.UnsafeQueueUserWorkItem(state =>
        {
            try { state.Sweep(); }
            finally { Volatile.Write(ref state._sweeping, 0); }
        }, this, preferLocal: false);
    }

    private void Sweep()
    {
        var now = clock.GetTimestamp();
        foreach (var (key, w) in _windows)
        {
            lock (w)
            {
                if (clock.GetElapsedTime(w.Opened, now) < window) continue;
                w.Dropped = true;
            }
            _windows.TryRemove(new KeyValuePair<TKey, Window>(key, w));
        }
    }
}
