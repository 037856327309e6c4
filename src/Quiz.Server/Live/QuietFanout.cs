using System.Runtime;

namespace Quiz.Server.Live;

/// <summary>
/// Holds this process's garbage collections off for the moment a question goes out to a room.
/// A collection stops every thread: one that fell inside a 10,000-phone fan-out held every phone's
/// question back by its whole pause (60–340 ms on a 2-core node, against a target of 250 ms for
/// the last phone; BENCHMARKS.md, live sessions). The fan-out itself allocates a few megabytes, so
/// a no-GC region with room for them puts the collection it would have met after it, where the
/// phones are reading the question. With the runtime's regions, starting one when the memory can
/// be committed collects nothing. Best effort: a region that cannot start, or runs out of room,
/// leaves things as they were without it.
/// </summary>
public sealed class QuietFanout(TimeProvider clock, ILogger<QuietFanout> logger) : IDisposable
{
    private readonly Lock _gate = new();
    private ITimer? _end;
    private long _allocatedAtStart;
    private long _startedAt;

    /// <summary>How long a region lasts: a fan-out to 10,000 phones takes ~0.2–0.4 s here.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The room a region keeps for allocations: 64 MB, about ten times what a show to 10,000 phones allocates.</summary>
    public long Bytes { get; init; } = 64L << 20;

    public bool Enabled { get; init; } = true;

    /// <summary>Starts a region, or makes the one under way last until <see cref="Window"/> from now.</summary>
    public void Hold()
    {
        if (!Enabled) return;
        lock (_gate)
        {
            if (_end is null)
            {
                try
                {
                    if (!GC.TryStartNoGCRegion(Bytes, disallowFullBlockingGC: true)) return;
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
                {
                    logger.LogDebug(e, "No quiet fan-out: the runtime refused a no-GC region");
                    return;
                }
                _allocatedAtStart = GC.GetTotalAllocatedBytes();
                _startedAt = clock.GetTimestamp();
                _end = clock.CreateTimer(_ => End(), null, Window, Timeout.InfiniteTimeSpan);
            }
            else _end.Change(Window, Timeout.InfiniteTimeSpan);
        }
    }

    private void End()
    {
        lock (_gate)
        {
            if (_end is null) return;
            _end.Dispose();
            _end = null;
            var held = GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;
            if (held)
            {
                // Throws when the region already ended by itself (its room used up): nothing to end then.
                try { GC.EndNoGCRegion(); } catch (InvalidOperationException) { held = false; }
            }
            logger.LogInformation("Collections held off for a fan-out: {Ms:F0} ms, {Allocated:F1} MB allocated, {Outcome}",
                clock.GetElapsedTime(_startedAt).TotalMilliseconds, (GC.GetTotalAllocatedBytes() - _allocatedAtStart) / 1048576.0,
                held ? "ended on time" : "ended early (its room used up)");
        }
    }

    public void Dispose() => End();
}
