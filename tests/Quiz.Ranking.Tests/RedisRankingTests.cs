using StackExchange.Redis;

namespace Quiz.Ranking.Tests;

public class RedisRankingTests(RedisServerFixture redis) : RankingContract, IClassFixture<RedisServerFixture>
{
    // The contract is about what the boards hold. The bound on a player's wait (a finish answers
    // "pending" after 200 ms) is the server's concern and is tested there (RankingFaultTests); on a
    // busy test machine a burst of 2,000 finishes would otherwise cross it.
    protected override async Task<IRankingEngine> CreateEngineAsync() =>
        await RedisRankingEngine.ConnectAsync(redis.Configuration,
            new RankingOptions { Engine = "Redis", FinishTimeout = TimeSpan.FromMinutes(1), ReadTimeout = TimeSpan.FromMinutes(1) }, Time);

    [Fact]
    public async Task ARebuildAskedWhileOneRunsJoinsItAndTheCampaignReadsAsCatchingUpMeanwhile()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        for (var p = 1; p <= 50; p++) await engine.RecordFinishAsync(s.Round(p, p % 10));
        var held = new HeldRebuild(s.RoundsAfter);
        var first = engine.RebuildAsync(s.Campaign, held.RoundsAfter);
        await held.Reading;
        Assert.True(engine.NeedsCatchUp(s.Campaign)); // a reconcile now would compare half-written boards

        // The watchdog's catch-up beside an admin's rebuild: it waits for the one running.
        var second = engine.RebuildAsync(s.Campaign, held.RoundsAfter);
        Assert.False(second.IsCompleted);
        held.Open();
        Assert.Equal(await first, await second);
        Assert.Equal(1, held.ReadsFromTheStart);
        Assert.Equal(50, (await first).Rounds);
        Assert.False(engine.NeedsCatchUp(s.Campaign));
        Assert.True((await engine.ReconcileAsync(s.Campaign, s.All)).Matches);
    }

    [Fact]
    public async Task ARebuildOnAnotherNodeHoldsTheCampaignSoThisNodeDoesNotRebuildItBesideThatOne()
    {
        await using var first = await CreateEngineAsync();
        await using var second = await CreateEngineAsync(); // another node on the same Redis
        var s = new TestStore();
        for (var p = 1; p <= 50; p++) await first.RecordFinishAsync(s.Round(p, p % 10));
        var held = new HeldRebuild(s.RoundsAfter);
        var rebuild = first.RebuildAsync(s.Campaign, held.RoundsAfter);
        await held.Reading;

        var seen = await second.CheckAsync(s.Campaign);
        Assert.True(seen.Held);
        Assert.False(second.NeedsCatchUp(s.Campaign));
        var refused = await Assert.ThrowsAsync<RankingUnavailableException>(() => second.RebuildAsync(s.Campaign, s.RoundsAfter));
        Assert.Contains("another node", refused.Message);
        Assert.False(second.NeedsCatchUp(s.Campaign)); // refused, not failed: it missed nothing
        Assert.True((await second.RecordFinishAsync(s.Round(999, 50))).Pending);

        held.Open();
        Assert.Equal(51, (await rebuild).Rounds);
        Assert.False((await second.CheckAsync(s.Campaign)).Held);
        Assert.Equal(51, (await second.RebuildAsync(s.Campaign, s.RoundsAfter)).Rounds); // free again
        Assert.True((await second.ReconcileAsync(s.Campaign, s.All)).Matches);
    }

    [Fact]
    public async Task ADayCountedBeforeItsParticipantsAndRoundsWerePackedAddsUpWithOneCountedAfter()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        await engine.SetUnitBasesAsync(s.Campaign, [new UnitBase(UnitLevel.County, "110101", "1101", 100),
            new UnitBase(UnitLevel.City, "1101", "11", 0), new UnitBase(UnitLevel.Province, "11", null, 0)]);
        // What an older finish script left in the day's hash: participants and rounds apart.
        await using (var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration))
            await connection.GetDatabase().HashSetAsync(RedisKeys.Units(s.Campaign, TestStore.Start.ToDateOnly()),
                [new HashEntry("r/11/1101/110101|p", 3), new HashEntry("r/11/1101/110101|r", 7), new HashEntry("r/11/1101/110101|s", 20)]);
        await engine.RecordFinishAsync(s.Round(1, 4));
        await engine.RecordFinishAsync(s.Round(2, 5, atSeconds: 10));
        await engine.RecordFinishAsync(s.Round(2, 3, atSeconds: 20));

        var county = new UnitBoardKey(s.Campaign, UnitLevel.County, UnitMetric.Participants, TestStore.Start.ToDateOnly());
        var day = await engine.GetUnitAsync(county, "110101");
        Assert.Equal((3L + 2, 7L + 3, 20L + 4 + 5 + 3), (day!.Participants, day.Rounds, day.Points));
        // The campaign's distinct participants are its own hash's; its rounds and points the days' sums.
        var all = await engine.GetUnitAsync(county with { Day = null }, "110101");
        Assert.Equal((2L, 10L, 32L), (all!.Participants, all.Rounds, all.Points));
    }
}
