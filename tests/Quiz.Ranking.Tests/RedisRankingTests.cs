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
}
