using Quiz.Server.Play;

namespace Quiz.Server.Tests.Play;

/// <summary>Round ids grow with the start's time, so the store's id indexes are appended to (RoundService.NewRoundId).</summary>
public sealed class RoundIdTests
{
    [Fact]
    public void AnIdIs24HexCharactersAndALaterStartSortsAfterAnEarlierOne()
    {
        var start = new DateTimeOffset(2026, 6, 12, 8, 0, 0, TimeSpan.FromHours(8));
        var ids = Enumerable.Range(0, 2_000).Select(i => RoundService.NewRoundId(start.AddMilliseconds(i * 7))).ToList();
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{24}$", id));
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        // The time part is the start's Unix milliseconds.
        Assert.Equal(start.ToUnixTimeMilliseconds(), Convert.ToInt64(ids[0][..12], 16));
    }

    [Fact]
    public void StartsInTheSameMillisecondGetDifferentIds()
    {
        var start = DateTimeOffset.UnixEpoch.AddYears(56);
        var ids = Enumerable.Range(0, 10_000).Select(_ => RoundService.NewRoundId(start)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.StartsWith(ids[0][..12], id));
    }
}
