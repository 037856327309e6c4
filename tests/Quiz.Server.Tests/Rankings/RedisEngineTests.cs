using Quiz.Ranking;
using Quiz.Ranking.Tests;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Rankings;

/// <summary>The server on the scale-out ranking engine: a real redis-server of the test's own.</summary>
public sealed class RedisEngineTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();
    private QuizApplication _app = null!;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        // A generous wait: these tests check the ranks a finish carries, not the bound on a busy machine.
        _app = OnRedis(new QuizApplication(), _redis);
        await PlayWorld.SeedAsync(_app);
    }

    /// <summary>The node on the engine and the Redis under test; a generous wait (these tests check the ranks a finish carries, not the bound on a busy machine).</summary>
    private static QuizApplication OnRedis(QuizApplication node, RedisServerFixture redis) =>
        node.With("Ranking:Engine", "Redis").With("Ranking:Redis", redis.Configuration).With("Ranking:FinishTimeout", "00:00:10");

    public async Task DisposeAsync()
    {
        _app.Dispose();
        await _redis.StopAsync();
    }

    [Fact]
    public async Task TheFinishReplyCarriesRanksFromRedis()
    {
        Assert.IsType<RedisRankingEngine>(_app.Service<IRankingEngine>());
        var first = await Staff.PlayRoundAsync(_app, PlayWorld.County, PlayWorld.Bank);
        var second = await Staff.PlayRoundAsync(_app, PlayWorld.County, PlayWorld.Bank);

        Assert.False(first.RankPending);
        Assert.Equal(1L, first.NationalRank);
        var expected = second.Score >= first.Score ? 1L : 2L; // equal standings share a rank
        Assert.Equal(expected, second.NationalRank);
        Assert.Equal(2, await _app.Service<IRankingEngine>().GetSizeAsync(BoardKey.National(PlayWorld.CampaignId, "main")));
    }

    /// <summary>
    /// A weak network's retried Finish is answered from the round kept in memory, not sent to the
    /// boards again: a best-of-all round sent twice would be counted twice (the finish script
    /// keeps no guard for that rule), and a node's start rebuilds a campaign whose count is off.
    /// </summary>
    [Fact]
    public async Task ARepeatedFinishAnswersTheSameRankAndTheRoundIsCountedOnce()
    {
        var registered = await PlayWorld.RegisterAsync(_app, region: PlayWorld.County);
        var rounds = _app.Service<RoundService>();
        var id = registered.Participant.ParticipantId;
        var round = await rounds.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));
        var first = await rounds.FinishAsync(id, new FinishRequest(round.RoundId));
        var again = await rounds.FinishAsync(id, new FinishRequest(round.RoundId)); // still in memory

        Assert.False(again.RankPending);
        Assert.Equal(first.NationalRank, again.NationalRank);
        Assert.Equal(1, (await _app.Service<IRankingEngine>().CheckAsync(PlayWorld.CampaignId)).AppliedRounds);
    }

    [Fact]
    public async Task WhileRedisIsDownRoundsCommitWithRanksPendingAndTheBoardsCatchUpAfter()
    {
        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        await _redis.StopAsync();

        var duringOutage = await Staff.PlayRoundAsync(_app, PlayWorld.OtherCounty);

        Assert.True(duringOutage.RankPending);
        Assert.Null(duringOutage.NationalRank);
        await using (var connection = await _app.Service<Quiz.Server.Storage.Database>().OpenAsync())
            Assert.Equal(2, await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, "SELECT COUNT(*) FROM results"));

        // Asked while the campaign waits for its catch-up, a reconcile says so instead of counting
        // the rounds not yet written back as differences.
        var early = await Assert.ThrowsAsync<RankingUnavailableException>(() => _app.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId));
        Assert.Contains("being caught up", early.Message);

        await _redis.StartAsync(); // comes back empty: everything must be replayed from the store
        var engine = _app.Service<IRankingEngine>();
        var board = BoardKey.National(PlayWorld.CampaignId, "main");
        // the catch-up service replays by itself
        var size = await Eventually.ReadAsync(() => engine.GetSizeAsync(board), s => s >= 2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, size);
        // The boards are written before the unit counters: the catch-up is over only when the
        // engine says so, and a reconcile before that would compare a half-loaded campaign.
        await Eventually.ReadAsync(() => Task.FromResult(engine.NeedsCatchUp(PlayWorld.CampaignId)), n => !n, TimeSpan.FromSeconds(30));
        var reconcile = await _app.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId);
        Assert.True(reconcile.Matches, string.Join("; ", reconcile.Differences));
    }

    [Fact]
    public async Task ANodeStartedOnARedisThatCameBackEmptyCatchesItsCampaignUpFromTheStore()
    {
        // Two nodes one after the other on one store (the test's own folder: a node deletes the folder it made).
        var store = Path.Combine(Path.GetTempPath(), "quiz-tests", Guid.NewGuid().ToString("N"));
        QuizApplication Node(DateTimeOffset? now = null) =>
            OnRedis(new QuizApplication(now: now), _redis).With("Storage:DataDir", store).With("Ranking:CheckInterval", "00:00:01");
        try
        {
            DateTimeOffset now;
            using (var first = Node())
            {
                await PlayWorld.SeedAsync(first);
                for (var i = 0; i < 3; i++) Assert.False((await Staff.PlayRoundAsync(first, PlayWorld.County)).RankPending);
                now = first.Clock.GetUtcNow();
            }
            await _redis.StopAsync();
            await _redis.StartAsync(); // without its data

            // The start-up load finds the keys gone with rounds in the store (the watchdog's first
            // look does not judge: a campaign's first rounds are committed before their finish
            // writes its keys).
            using var next = Node(now);
            var engine = next.Service<IRankingEngine>();
            var board = BoardKey.National(PlayWorld.CampaignId, "main");
            var size = await Eventually.ReadAsync(() => engine.GetSizeAsync(board), s => s >= 3, TimeSpan.FromSeconds(30));
            Assert.Equal(3, size);
            await Eventually.ReadAsync(() => Task.FromResult(engine.NeedsCatchUp(PlayWorld.CampaignId)), n => !n, TimeSpan.FromSeconds(30));
            var reconcile = await Eventually.ReadAsync(() => next.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId),
                r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(reconcile.Matches, string.Join("; ", reconcile.Differences));
        }
        finally
        {
            try { Directory.Delete(store, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task WhileAnotherNodeRebuildsACampaignThisNodesWatchdogLeavesItAloneAndItsReconcileWaits()
    {
        // A Redis of the test's own: the class's node would be a third one on the campaign.
        var redis = new RedisServerFixture();
        await redis.StartAsync();
        try
        {
            using var node = OnRedis(new QuizApplication(), redis).With("Ranking:CheckInterval", "00:00:00.200");
            await PlayWorld.SeedAsync(node);
            for (var i = 0; i < 3; i++) Assert.False((await Staff.PlayRoundAsync(node, PlayWorld.County)).RankPending);
            await using var other = await RedisRankingEngine.ConnectAsync(redis.Configuration); // the other node's engine
            await using var raw = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Configuration);
            var epoch = new StackExchange.Redis.RedisKey("{c:" + PlayWorld.CampaignId + "}:epoch"); // bumped by each rebuild

            // The other node's rebuild, stopped after its first round: the keys are half-written.
            var held = new HeldRebuild(node.Service<Quiz.Server.Rankings.RankingService>().RoundsForRebuild(PlayWorld.CampaignId, 3, progress: null, CancellationToken.None));
            var rebuild = other.RebuildAsync(PlayWorld.CampaignId, held.RoundsAfter);
            await held.Reading;

            Assert.True((await node.Service<IRankingEngine>().CheckAsync(PlayWorld.CampaignId)).Held);
            var early = await Assert.ThrowsAsync<RankingUnavailableException>(() => node.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId));
            Assert.Contains("being caught up", early.Message);
            await Task.Delay(TimeSpan.FromSeconds(1)); // five looks of this node's watchdog, the applied rounds gone meanwhile

            held.Open();
            Assert.Equal(3, (await rebuild).Rounds);
            var after = (long)await raw.GetDatabase().StringGetAsync(epoch);
            // This node's watchdog started no rebuild of its own (it would have waited for the hold,
            // then rebuilt what the other node had just written: a retry comes within 2 s).
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Equal(after, (long)await raw.GetDatabase().StringGetAsync(epoch));
            var reconcile = await node.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId);
            Assert.True(reconcile.Matches, string.Join("; ", reconcile.Differences));
        }
        finally
        {
            await redis.StopAsync();
        }
    }
}
