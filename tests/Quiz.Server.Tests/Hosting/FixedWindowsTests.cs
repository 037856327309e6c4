using Microsoft.Extensions.Time.Testing;
using Quiz.Server.Hosting;

namespace Quiz.Server.Tests.Hosting;

/// <summary>The rate limits' fixed windows without a timer (starts per participant and address, registration and login per address).</summary>
public sealed class FixedWindowsTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-06-12T10:00:00+08:00"));

    [Fact]
    public void AKeyHasItsPermitsAWindowThenIsToldWhenItsWindowEnds()
    {
        var limits = new FixedWindows<long>(3, TimeSpan.FromMinutes(1), _clock);
        for (var i = 0; i < 3; i++) Assert.True(limits.TryAcquire(7, out _));
        _clock.Advance(TimeSpan.FromSeconds(20.5));
        Assert.False(limits.TryAcquire(7, out var retryAfter));
        Assert.Equal(40, retryAfter);
        // Another key has a window of its own.
        Assert.True(limits.TryAcquire(8, out _));
        _clock.Advance(TimeSpan.FromSeconds(39.4));
        Assert.False(limits.TryAcquire(7, out retryAfter));
        Assert.Equal(1, retryAfter);
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        for (var i = 0; i < 3; i++) Assert.True(limits.TryAcquire(7, out _));
        Assert.False(limits.TryAcquire(7, out retryAfter));
        Assert.Equal(60, retryAfter);
    }

    [Fact]
    public async Task ManyCallersAtOnceShareTheWindowsPermitsExactly()
    {
        var limits = new FixedWindows<string>(100, TimeSpan.FromMinutes(1), _clock);
        var acquired = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
                if (limits.TryAcquire("10.0.0.1", out _)) Interlocked.Increment(ref acquired);
        })));
        Assert.Equal(100, acquired);
    }

    [Fact]
    public async Task WindowsThatEndedAreDroppedAndTheirKeysStartAfresh()
    {
        var limits = new FixedWindows<long>(1, TimeSpan.FromMinutes(1), _clock);
        for (var id = 0; id < 1000; id++) Assert.True(limits.TryAcquire(id, out _));
        Assert.False(limits.TryAcquire(5, out _));
        Assert.Equal(1000, limits.Count);
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.True(limits.TryAcquire(5000, out _));
        _clock.Advance(TimeSpan.FromSeconds(31));
        // The first acquisition a window after the last sweep sweeps, on the thread pool: the
        // thousand windows opened 61 s ago go, the one opened 31 s ago stays.
        Assert.True(limits.TryAcquire(5001, out _));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (limits.Count > 2 && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);
        Assert.Equal(2, limits.Count);
        Assert.False(limits.TryAcquire(5000, out _));
        Assert.True(limits.TryAcquire(5, out _));
    }
}
