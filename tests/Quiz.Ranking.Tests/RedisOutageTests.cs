namespace Quiz.Ranking.Tests;

/// <summary>Redis stopped and started mid-run: finishes still succeed (Pending), and the boards catch up with nothing lost.</summary>
public class RedisOutageTests : IAsyncLifetime
{
    readonly RedisServerFixture redis = new();
    public Task InitializeAsync() => redis.InitializeAsync();
    public Task DisposeAsync() => redis.DisposeAsync();

    [Fact]
    public async Task FinishesDuringAnOutageArePendingAndCaughtUpFromTheStore()
    {
        await using var engine = await RedisRankingEngine.ConnectAsync(redis.Configuration);
        var s = new TestStore();
        var needed = new List<string>();
        engine.CatchUpNeeded += needed.Add;
        var pending = 0;
        var outage = new TaskCompletionSource();
        var restarted = new TaskCompletionSource();

        // Players keep finishing (each committed to the store first) while Redis goes away and comes back.
        var players = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                var p = w * 100 + Random.Shared.Next(1, 50);
                var r = await engine.RecordFinishAsync(s.Round(p, p % 7 + i % 3, 60_000 - i, i, AggregationRule.Sum, path: ["11", "1101", $"k{p % 3}"], org: $"o{p % 2}"));
                if (r.Pending) Interlocked.Increment(ref pending);
                if (i == 50 && w == 0) outage.SetResult();
                if (i == 100) await restarted.Task;
                await Task.Delay(1);
            }
        })).ToList();

        await outage.Task;
        await redis.StopAsync();
        await Task.Delay(300);
        await redis.StartAsync();
        restarted.SetResult();
        await Task.WhenAll(players);

        Assert.True(pending > 0);
        Assert.True(engine.NeedsCatchUp(s.Campaign));
        Assert.Equal([s.Campaign], needed);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var report = await RankingCatchUp.RunAsync(engine, s.Campaign, s.RoundsAfter, TimeSpan.FromMilliseconds(100), timeout.Token);
        Assert.Equal(s.Rounds.Count, report.Rounds);
        Assert.False(engine.NeedsCatchUp(s.Campaign));

        var after = await engine.RecordFinishAsync(s.Round(1, 50, rule: AggregationRule.Sum, path: ["11", "1101", "k1"], org: "o1"));
        Assert.False(after.Pending);
        var reconcile = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.True(reconcile.Matches, string.Join('\n', reconcile.Differences));
        var expected = BruteForce.Values(s.Rounds);
        Assert.Equal(expected.Count, await engine.GetSizeAsync(BoardKey.National(s.Campaign, "main")));
        Assert.Equal(s.Rounds.Count, (await engine.CheckAsync(s.Campaign)).AppliedRounds);
    }

    [Fact]
    public async Task AnEngineStartedWhileRedisIsDownAnswersPendingAndEmptyReads()
    {
        await redis.StopAsync();
        await using var engine = await RedisRankingEngine.ConnectAsync(redis.Configuration);
        var s = new TestStore();
        Assert.True((await engine.RecordFinishAsync(s.Round(1, 5))).Pending);
        Assert.Empty(await engine.GetTopAsync(BoardKey.National(s.Campaign, "main"), 10));
        Assert.Null(await engine.GetMemberAsync(BoardKey.National(s.Campaign, "main"), 1));
        Assert.Equal(0, await engine.GetSizeAsync(BoardKey.National(s.Campaign, "main")));
        await Assert.ThrowsAsync<RankingUnavailableException>(() => engine.RebuildAsync(s.Campaign, s.RoundsAfter));
        await redis.StartAsync();
    }
}
