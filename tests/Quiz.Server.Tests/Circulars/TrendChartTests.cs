using Quiz.Server.Circulars;

namespace Quiz.Server.Tests.Circulars;

public sealed class TrendChartTests
{
    private static List<CircularService.TrendDay> Days(int count, long scale) =>
        [.. Enumerable.Range(0, count).Select(i => new CircularService.TrendDay(new DateOnly(2023, 6, 1).AddDays(i), scale * (i + 1), scale * (i + 3), i >= count / 2))];

    /// <summary>
    /// Charts reuse one canvas (a 2 MB bitmap, which as a new large object every chart set off full
    /// collections while the evening's circulars were issued): a chart is the same whatever was
    /// drawn before it, and drawing it again allocates far less than its bitmap.
    /// </summary>
    [Fact]
    public void AChartIsTheSameWhateverWasDrawnBeforeAndReusesItsCanvas()
    {
        var small = Days(7, 3);
        var first = TrendChart.Png(small);
        TrendChart.Png(Days(14, 5_000)); // taller bars and lines everywhere the small chart has none
        var before = GC.GetAllocatedBytesForCurrentThread();
        var again = TrendChart.Png(small);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(first, again);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], again.Take(4));
        Assert.True(allocated < TrendChart.Width * TrendChart.Height * 3 / 2, $"{allocated:N0} bytes allocated for a chart");
    }
}
