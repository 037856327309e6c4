namespace Quiz.Ranking.Tests;

public class RankScoreTests
{
    static readonly DateTimeOffset Start = new(2025, 6, 12, 0, 0, 0, TimeSpan.FromHours(8));

    [Fact]
    public void LayoutFitsInADoublesExactIntegers()
    {
        Assert.Equal(53, RankScore.ScoreBits + RankScore.DurationBits + RankScore.TimeBits);
        Assert.True(RankScore.MaxValue < 1L << 53);
        Assert.Equal(RankScore.MaxValue, (long)(double)RankScore.MaxValue);
        var best = RankScore.Encode(RankScore.MaxScore, 0, Start, Start);
        Assert.Equal(RankScore.MaxValue, best);
    }

    [Fact]
    public void OrdersByScoreThenShorterDurationThenEarlierFinish()
    {
        var t = Start.AddDays(3);
        var baseline = RankScore.Encode(50, 60_000, t, Start);
        Assert.True(RankScore.Encode(51, 179_990, t.AddDays(20), Start) > baseline);
        Assert.True(RankScore.Encode(50, 59_990, t.AddDays(20), Start) > baseline);
        Assert.True(RankScore.Encode(50, 60_000, t.AddSeconds(-2), Start) > baseline);
        Assert.Equal(baseline, RankScore.Encode(50, 60_009, t.AddSeconds(1), Start)); // below resolution: a tie
    }

    [Fact]
    public void DecodeReturnsTheParts()
    {
        var v = RankScore.Encode(1234, 98_760, Start.AddSeconds(86_401), Start);
        Assert.Equal(new RankParts(1234, 9876, 43_200), RankScore.Decode(v));
        Assert.Equal(98_760, RankScore.Decode(v).DurationMs);
    }

    [Fact]
    public void LimitsAreAsserted()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RankScore.Encode(RankScore.MaxScore + 1, 0, Start, Start));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankScore.Encode(-1, 0, Start, Start));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankScore.Encode(1, -1, Start, Start));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankScore.Encode(1, 0, Start.AddSeconds(-1), Start));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankScore.Encode(1, 0, Start + RankScore.MaxCampaignLength + TimeSpan.FromSeconds(2), Start));
        RankScore.Encode(1, 0, Start + RankScore.MaxCampaignLength, Start);
        Assert.Throws<ArgumentOutOfRangeException>(() => RankScore.Decode(RankScore.MaxValue + 1));
    }

    [Fact]
    public void LongRoundsSaturateTheDurationInsteadOfFailing()
    {
        var longest = RankScore.Encode(5, int.MaxValue, Start, Start);
        Assert.Equal(RankScore.MaxDurationUnits, RankScore.Decode(longest).DurationUnits);
    }

    [Fact]
    public void SumsAddScoresAndDurationsAndTakeTheLastTimeAndSaturate()
    {
        var a = RankScore.Encode(3, 10_000, Start.AddSeconds(10), Start);
        var b = RankScore.Encode(4, 20_000, Start.AddSeconds(100), Start);
        Assert.Equal(new RankParts(7, 3000, 50), RankScore.Decode(RankScore.AddRound(a, b)));
        var big = RankScore.Encode(RankScore.MaxScore, 0, Start, Start);
        Assert.Equal(RankScore.MaxScore, RankScore.Decode(RankScore.AddRound(big, b)).Score);
        Assert.Equal(new RankParts(7, 3000, 50), RankScore.Decode(RankScore.ReplaceGroupBest(RankScore.AddRound(a, a), a, b)));
    }
}
