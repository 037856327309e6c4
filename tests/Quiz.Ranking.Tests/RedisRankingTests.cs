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

    /// <summary>
    /// A finish the hold turns away after the rebuild's last pass read the store is applied once,
    /// as the hold is released; a finish after the release applies itself and is not applied again.
    /// Best-of-all rounds, which the finish script does not guard: the applied count tells a round
    /// applied twice.
    /// </summary>
    [Fact]
    public async Task AFinishHeldAfterTheLastPassIsAppliedOnceAtTheReleaseAndOneAfterTheReleaseIsNotReplayed()
    {
        await using var admin = await CreateEngineAsync();
        await using var node = await CreateEngineAsync(); // another node, playing on
        var s = new TestStore();
        for (var p = 1; p <= 50; p++) await admin.RecordFinishAsync(s.Round(p, p % 10));
        RoundFinished? held = null, after = null;
        var passes = 0;
        async IAsyncEnumerable<RoundFinished> RoundsAfter(long from)
        {
            var pass = from == 0 ? 0 : ++passes;
            // The pass after the release reads the store once the node's finish applied itself.
            if (pass == 3)
            {
                after = s.Round(52, 45);
                Assert.False((await node.RecordFinishAsync(after)).Pending);
            }
            await foreach (var r in s.RoundsAfter(from)) yield return r;
            // The last pass has read the store: a finish committed now is turned away by the hold.
            if (pass == 2)
            {
                held = s.Round(51, 40);
                Assert.True((await node.RecordFinishAsync(held)).Pending);
            }
        }

        var report = await admin.RebuildAsync(s.Campaign, RoundsAfter);
        Assert.Equal(3, passes);
        Assert.Equal(51, report.Rounds);
        Assert.Equal(51, report.Participants);
        Assert.Equal(40, (await admin.GetMemberAsync(National(s), 51))!.Parts.Score);
        Assert.NotNull(await admin.GetMemberAsync(National(s), 52));
        Assert.Equal(52, (await admin.CheckAsync(s.Campaign)).AppliedRounds);
        Assert.True((await admin.ReconcileAsync(s.Campaign, s.All)).Matches);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        Assert.Equal(0, await connection.GetDatabase().SortedSetLengthAsync("{c:" + s.Campaign + "}:held"));
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
