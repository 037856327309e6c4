namespace Quiz.Ranking.Tests;

/// <summary>Redis stopped and started mid-run: finishes still succeed (Pending), and the boards catch up with nothing lost.</summary>
public class RedisOutageTests : IAsyncLifetime
{
    readonly RedisServerFixture redis = new();
    /// <summary>
    /// An outage answers "pending" at once (the connection fails fast), not by the 200 ms bound on
    /// a finish's wait or the 500 ms bound on a read; longer bounds keep a busy test machine from
    /// reading as an outage (a board's size read as 0 after the catch-up failed a CI run once).
    /// </summary>
    static readonly RankingOptions Options = new() { Engine = "Redis", FinishTimeout = TimeSpan.FromSeconds(5), ReadTimeout = TimeSpan.FromSeconds(5) };
    public Task InitializeAsync() => redis.InitializeAsync();
    public Task DisposeAsync() => redis.DisposeAsync();

    [Fact]
    public async Task FinishesDuringAnOutageArePendingAndCaughtUpFromTheStore()
    {
        await using var engine = await RedisRankingEngine.ConnectAsync(redis.Configuration, Options);
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

    /// <summary>
    /// After an outage every node has missed rounds. A rebuild that was running when a node took
    /// its ticket serves that node: it replays only the rounds stored since, the ones it declined
    /// meanwhile among them, instead of rebuilding the campaign once more.
    /// </summary>
    [Fact]
    public async Task OneRebuildAfterAnOutageCatchesUpEveryNodeThatAskedBeforeItsLastPass()
    {
        await using var a = await RedisRankingEngine.ConnectAsync(redis.Configuration, Options);
        await using var b = await RedisRankingEngine.ConnectAsync(redis.Configuration, Options); // a second node
        await using var admin = await RedisRankingEngine.ConnectAsync(redis.Configuration, Options); // a third
        var s = new TestStore();
        for (var p = 1; p <= 30; p++) Assert.False((await a.RecordFinishAsync(s.Round(p, p % 6))).Pending);

        await EachMissesARoundWhileRedisIsAwayAsync(s, (a, 31), (b, 32), reconnecting: admin);

        // A rebuild on the third node (an admin's) holds the campaign while both take their tickets.
        var held = new HeldRebuild(s.RoundsAfter);
        var rebuild = admin.RebuildAsync(s.Campaign, held.RoundsAfter);
        await Task.WhenAny(held.Reading, rebuild);
        Assert.False(rebuild.IsCompleted, rebuild.Exception?.ToString());
        Assert.Contains("another node", (await Assert.ThrowsAsync<RankingUnavailableException>(() => a.CatchUpAsync(s.Campaign, s.RoundsAfter))).Message);
        Assert.Contains("another node", (await Assert.ThrowsAsync<RankingUnavailableException>(() => b.CatchUpAsync(s.Campaign, s.RoundsAfter))).Message);
        held.Open();
        var whole = await rebuild;
        Assert.False(whole.Covered);
        Assert.Equal(32, whole.Rounds);
        Assert.True(a.NeedsCatchUp(s.Campaign) && b.NeedsCatchUp(s.Campaign));

        // Until it has caught up, a node declines its live finishes: stored, pending.
        Assert.True((await a.RecordFinishAsync(s.Round(33, 5))).Pending);

        // That rebuild read the tickets' counter before its last pass, after both tickets: each
        // node replays only what was stored after it.
        var first = await a.CatchUpAsync(s.Campaign, s.RoundsAfter);
        Assert.True(first.Covered);
        Assert.Equal(1, first.Rounds);
        Assert.False(a.NeedsCatchUp(s.Campaign));
        Assert.True((await b.RecordFinishAsync(s.Round(34, 2))).Pending);
        // A caught-up node plays on: its round is stored after that catch-up too, and replayed by
        // the next, which must not count it twice (best-of-all rounds have no per-person guard).
        Assert.False((await a.RecordFinishAsync(s.Round(37, 3))).Pending);
        var second = await b.CatchUpAsync(s.Campaign, s.RoundsAfter);
        Assert.True(second.Covered);
        Assert.Equal(2, second.Rounds);
        Assert.Equal(2, second.Participants); // of the rounds it replayed
        Assert.False(b.NeedsCatchUp(s.Campaign));
        Assert.False((await b.RecordFinishAsync(s.Round(35, 1))).Pending);

        var reconcile = await b.ReconcileAsync(s.Campaign, s.All);
        Assert.True(reconcile.Matches, string.Join('\n', reconcile.Differences));
        Assert.Equal(s.Rounds.Count, (await b.CheckAsync(s.Campaign)).AppliedRounds);

        // A node that misses rounds after those catch-ups (a batch Redis did not answer, its keys
        // kept) takes a later ticket than any rebuild has read, and rebuilds in full.
        s.Round(36, 3);
        a.MarkForCatchUp(s.Campaign);
        var third = await a.CatchUpAsync(s.Campaign, s.RoundsAfter);
        Assert.False(third.Covered);
        Assert.Equal(s.Rounds.Count, third.Rounds);
        Assert.True((await a.ReconcileAsync(s.Campaign, s.All)).Matches);
    }

    /// <summary>
    /// A node whose watchdog looks only after another node's rebuild has ended takes its ticket
    /// too late for that rebuild, but the rounds it missed have ids at or below the last one that
    /// rebuild applied (ids follow commit order): it replays only what followed, instead of
    /// rebuilding the campaign once more.
    /// </summary>
    [Fact]
    public async Task ANodeThatLooksOnlyAfterAnotherNodesRebuildEndedReplaysOnlyWhatFollowedIt()
    {
        await using var a = await RedisRankingEngine.ConnectAsync(redis.Configuration, Options);
        await using var b = await RedisRankingEngine.ConnectAsync(redis.Configuration, Options); // a second node
        var s = new TestStore();
        for (var p = 1; p <= 20; p++) Assert.False((await (p % 2 == 0 ? a : b).RecordFinishAsync(s.Round(p, p % 6))).Pending);

        await EachMissesARoundWhileRedisIsAwayAsync(s, (a, 21), (b, 22), reconnecting: a);

        var first = await a.CatchUpAsync(s.Campaign, s.RoundsAfter);
        Assert.False(first.Covered); // the keys were gone: rebuilt
        Assert.Equal(22, first.Rounds);
        Assert.False((await a.RecordFinishAsync(s.Round(23, 3))).Pending); // play goes on

        var second = await b.CatchUpAsync(s.Campaign, s.RoundsAfter);
        Assert.True(second.Covered);
        Assert.Equal(1, second.Rounds);
        Assert.False(b.NeedsCatchUp(s.Campaign));
        Assert.False((await b.RecordFinishAsync(s.Round(24, 1))).Pending);
        Assert.True((await b.ReconcileAsync(s.Campaign, s.All)).Matches);
        Assert.Equal(s.Rounds.Count, (await b.CheckAsync(s.Campaign)).AppliedRounds);
    }

    /// <summary>
    /// Two nodes each finish a round while Redis is away (it comes back empty): each missed one,
    /// answered pending, and needs a catch-up; then <paramref name="reconnecting"/> reaches Redis again.
    /// </summary>
    async Task EachMissesARoundWhileRedisIsAwayAsync(TestStore s, (RedisRankingEngine Node, int Participant) first,
        (RedisRankingEngine Node, int Participant) second, RedisRankingEngine reconnecting)
    {
        await redis.StopAsync();
        Assert.True((await first.Node.RecordFinishAsync(s.Round(first.Participant, 5))).Pending);
        Assert.True((await second.Node.RecordFinishAsync(s.Round(second.Participant, 4))).Pending);
        await redis.StartAsync();
        bool Both() => first.Node.NeedsCatchUp(s.Campaign) && second.Node.NeedsCatchUp(s.Campaign);
        for (var i = 0; i < 100 && !Both(); i++) await Task.Delay(100);
        Assert.True(Both());
        for (var i = 0; i < 100 && !(await reconnecting.CheckAsync(s.Campaign)).Reachable; i++) await Task.Delay(100);
    }

    [Fact]
    public async Task AnEngineStartedWhileRedisIsDownAnswersPendingAndEmptyReads()
    {
        await redis.StopAsync();
        await using var engine = await RedisRankingEngine.ConnectAsync(redis.Configuration, Options);
        var s = new TestStore();
        Assert.True((await engine.RecordFinishAsync(s.Round(1, 5))).Pending);
        Assert.Empty(await engine.GetTopAsync(BoardKey.National(s.Campaign, "main"), 10));
        Assert.Null(await engine.GetMemberAsync(BoardKey.National(s.Campaign, "main"), 1));
        Assert.Equal(0, await engine.GetSizeAsync(BoardKey.National(s.Campaign, "main")));
        await Assert.ThrowsAsync<RankingUnavailableException>(() => engine.RebuildAsync(s.Campaign, s.RoundsAfter));
        await redis.StartAsync();
    }
}
