using System.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Quiz.Server.Live;

namespace Quiz.Server.Tests.Live;

/// <summary>A no-GC region is the whole process's: these tests run alone, so no live test's show holds one meanwhile.</summary>
[CollectionDefinition(nameof(QuietFanoutTests), DisableParallelization = true)]
public sealed class QuietFanoutCollection;

[Collection(nameof(QuietFanoutTests))]
public sealed class QuietFanoutTests
{
    private readonly FakeTimeProvider _clock = new();

    // A live test's show, run just before, may hold one on the real clock for up to a second more.
    public QuietFanoutTests() => SpinWait.SpinUntil(() => GCSettings.LatencyMode != GCLatencyMode.NoGCRegion, TimeSpan.FromSeconds(5));

    private QuietFanout Quiet(bool enabled = true, long bytes = 16L << 20) =>
        new(_clock, NullLogger<QuietFanout>.Instance) { Window = TimeSpan.FromSeconds(1), Bytes = bytes, Enabled = enabled };

    [Fact]
    public void NoCollectionRunsWhileAFanoutIsHeldAndTheHoldEndsAfterItsWindow()
    {
        using var quiet = Quiet();
        quiet.Hold(); // the runtime counts a collection here, one that collects nothing
        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        var collections = GC.CollectionCount(0);
        for (var i = 0; i < 1000; i++) GC.KeepAlive(new byte[1024]); // 1 MB, well inside the room kept
        Assert.Equal(collections, GC.CollectionCount(0));

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void AShowDuringAHoldMakesItLastAWindowFromThen()
    {
        using var quiet = Quiet();
        quiet.Hold();
        _clock.Advance(TimeSpan.FromMilliseconds(600));
        quiet.Hold(); // a second room's question: the region under way goes on
        _clock.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        _clock.Advance(TimeSpan.FromMilliseconds(400));
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void AHoldWhoseRoomIsUsedUpEndsWithACollectionAndTheNextHoldStartsAgain()
    {
        using var quiet = Quiet(bytes: 4L << 20);
        quiet.Hold();
        var collections = GC.CollectionCount(0);
        for (var i = 0; i < 1024; i++) GC.KeepAlive(new byte[64 << 10]); // 64 MB of small objects: past the room kept
        Assert.True(GC.CollectionCount(0) > collections);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);

        _clock.Advance(TimeSpan.FromSeconds(1)); // its end finds the region over: no throw
        quiet.Hold();
        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void TurnedOffItHoldsNothing()
    {
        using var quiet = Quiet(enabled: false);
        quiet.Hold();
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }
}
