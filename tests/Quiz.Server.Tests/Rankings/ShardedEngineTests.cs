using Quiz.Ranking;
using Quiz.Ranking.Tests;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Rankings;

/// <summary>The server with its boards over three Redis shards (Ranking:Shards, issue 18): three real redis-server processes of the test's own.</summary>
public sealed class ShardedEngineTests : IAsyncLifetime
{
    private readonly RedisServerFixture[] _shards = [new(), new(), new()];
    private QuizApplication _app = null!;
    private int _players;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_shards.Select(s => s.StartAsync()));
        _app = new QuizApplication().With("Ranking:Engine", "Redis").With("Ranking:FinishTimeout", "00:00:10")
            .With("Ranking:Shards:0", _shards[0].Configuration).With("Ranking:Shards:1", _shards[1].Configuration).With("Ranking:Shards:2", _shards[2].Configuration);
        await PlayWorld.SeedAsync(_app);
    }

    public async Task DisposeAsync()
    {
        _app.Dispose();
        await Task.WhenAll(_shards.Select(s => s.StopAsync()));
    }

    private Task<(long ParticipantId, RoundResult Result)> PlayAsync(string region, string? organisation = null) =>
        PlayAsync(_app, _players++, region, organisation);

    /// <summary>As <see cref="Staff.PlayRoundAsync"/>, saying who played; player <paramref name="seed"/> answers in a way of their own.</summary>
    internal static async Task<(long ParticipantId, RoundResult Result)> PlayAsync(QuizApplication app, int seed, string region, string? organisation)
    {
        var registered = await PlayWorld.RegisterAsync(app, region: region, organisation: organisation);
        var rounds = app.Service<RoundService>();
        var id = registered.Participant.ParticipantId;
        var round = await rounds.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));
        // Each player answers differently (the clock is a fake one: scores are what tell players apart).
        var choices = new Random(seed);
        for (var i = 0; i < round.Questions.Count; i++) await rounds.AnswerAsync(id, new AnswerRequest(round.RoundId, i, [choices.Next(2)]));
        return (id, await rounds.FinishAsync(id, new FinishRequest(round.RoundId)));
    }

    [Fact]
    public async Task FinishRepliesCarryRanksCountedOverEveryShard()
    {
        var engine = Assert.IsType<ShardedRankingEngine>(_app.Service<IRankingEngine>());
        Assert.Equal(3, engine.ShardCount);
        var results = new List<(long ParticipantId, RoundResult Result)>();
        for (var i = 0; i < 9; i++) results.Add(await PlayAsync(PlayWorld.County, PlayWorld.Bank));

        Assert.All(results, r => Assert.False(r.Result.RankPending));
        var board = BoardKey.National(PlayWorld.CampaignId, "main");
        Assert.Equal(9, await engine.GetSizeAsync(board));
        // Every player's rank now, from the boards of all three shards, against the scores they hold.
        var standings = new List<BoardEntry>();
        foreach (var r in results) standings.Add((await engine.GetMemberAsync(board, r.ParticipantId))!);
        foreach (var s in standings) Assert.Equal(1 + standings.Count(o => o.Value > s.Value), s.Rank);
        Assert.True(standings.Select(s => s.Value).Distinct().Count() > 1, "every player scored the same: the ranks tell nothing");
        // The people are on more than one shard, so these ranks did add other shards' counts.
        Assert.True(results.Select(r => engine.ShardOf(r.ParticipantId)).Distinct().Count() > 1);
        var reconcile = await _app.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId);
        Assert.True(reconcile.Matches, string.Join("; ", reconcile.Differences));
    }

    [Fact]
    public async Task AShardThatCameBackEmptyIsCaughtUpFromTheStoreByItself()
    {
        var engine = Assert.IsType<ShardedRankingEngine>(_app.Service<IRankingEngine>());
        for (var i = 0; i < 6; i++) Assert.False((await Staff.PlayRoundAsync(_app, PlayWorld.County)).RankPending);
        await _shards[1].StopAsync();

        var during = await Staff.PlayRoundAsync(_app, PlayWorld.OtherCounty);
        Assert.True(during.RankPending);

        await _shards[1].StartAsync(); // empty: its people's rounds must come back from the store
        var board = BoardKey.National(PlayWorld.CampaignId, "main");
        var size = await Eventually.ReadAsync(() => engine.GetSizeAsync(board), s => s >= 7, TimeSpan.FromSeconds(30));
        Assert.Equal(7, size);
        await Eventually.ReadAsync(() => Task.FromResult(engine.NeedsCatchUp(PlayWorld.CampaignId)), n => !n, TimeSpan.FromSeconds(30));
        // The campaign reads as catching up while a rebuild runs, but the size can reach 7 before
        // the watchdog's rebuild has started (when the shard that came back held none of the
        // people), and a reconcile then sees its unit counters missing. Caught up means the
        // comparison comes to match.
        var reconcile = await Eventually.ReadAsync(() => _app.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId),
            r => r.Matches, TimeSpan.FromSeconds(30));
        Assert.True(reconcile.Matches, string.Join("; ", reconcile.Differences));
    }
}

/// <summary>The server with its boards over three Redis shards by province (Ranking:ShardBy=Province, issue 18).</summary>
public sealed class ShardedByProvinceEngineTests : IAsyncLifetime
{
    private const string OtherProvince = "320000", OtherProvinceCounty = "320102";
    private readonly RedisServerFixture[] _shards = [new(), new(), new()];
    private QuizApplication _app = null!;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_shards.Select(s => s.StartAsync()));
        _app = new QuizApplication().With("Ranking:Engine", "Redis").With("Ranking:FinishTimeout", "00:00:10").With("Ranking:ShardBy", "Province")
            .With("Ranking:Shards:0", _shards[0].Configuration).With("Ranking:Shards:1", _shards[1].Configuration).With("Ranking:Shards:2", _shards[2].Configuration);
        await PlayWorld.SeedAsync(_app);
        // A second province, whose people the bank of the first one employs too.
        var regions = SampleQuestions.WriteTemp(System.Text.Encoding.UTF8.GetBytes(PlayWorld.Regions.TrimEnd() + $"""

            {OtherProvince},江苏省,,province,80000000
            320100,南京市,{OtherProvince},city,9000000
            {OtherProvinceCounty},玄武区,320100,county,500000
            """), ".csv");
        var imported = await _app.Service<Quiz.Server.Units.UnitImport>().ImportAsync([(regions, "regions.csv")]);
        Assert.True(imported.Ok, string.Join("; ", imported.Errors));
    }

    public async Task DisposeAsync()
    {
        _app.Dispose();
        await Task.WhenAll(_shards.Select(s => s.StopAsync()));
    }

    [Fact]
    public async Task EachProvinceLivesOnItsShardAndFinishRepliesCarryExactRanks()
    {
        var engine = Assert.IsType<ShardedRankingEngine>(_app.Service<IRankingEngine>());
        Assert.True(engine.ByProvince);
        Assert.NotEqual(engine.ShardOfProvince(PlayWorld.Province), engine.ShardOfProvince(OtherProvince));
        var results = new List<(long Id, string County, RoundResult Result)>();
        for (var i = 0; i < 10; i++)
        {
            var county = i % 2 == 0 ? PlayWorld.County : OtherProvinceCounty;
            var (id, result) = await ShardedEngineTests.PlayAsync(_app, i, county, PlayWorld.Bank);
            results.Add((id, county, result));
        }
        Assert.All(results, r => Assert.False(r.Result.RankPending));

        var national = BoardKey.National(PlayWorld.CampaignId, "main");
        var values = new Dictionary<long, long>();
        foreach (var r in results) values[r.Id] = (await engine.GetMemberAsync(national, r.Id))!.Value;
        Assert.True(values.Values.Distinct().Count() > 1, "every player scored the same: the ranks tell nothing");
        // The last finish's reply, against the boards as they stand after it.
        var last = results[^1];
        Assert.Equal(1 + values.Values.Count(v => v > values[last.Id]), last.Result.NationalRank);
        Assert.Equal(1 + values.Values.Count(v => v > values[last.Id]), (await engine.GetMemberAsync(BoardKey.Organisation(PlayWorld.CampaignId, "main", PlayWorld.Bank), last.Id))!.Rank);
        foreach (var r in results)
            Assert.Equal(1 + results.Count(o => o.County == r.County && values[o.Id] > values[r.Id]),
                (await engine.GetMemberAsync(BoardKey.Unit(PlayWorld.CampaignId, "main", r.County), r.Id))!.Rank);
        // Each province's people on its own shard only.
        for (var s = 0; s < 3; s++)
        {
            await using var one = await RedisRankingEngine.ConnectAsync(_shards[s].Configuration);
            Assert.Equal(results.Count(r => engine.ShardOfProvince(r.County == PlayWorld.County ? PlayWorld.Province : OtherProvince) == s), await one.GetSizeAsync(national));
        }
        var reconcile = await _app.Service<Quiz.Server.Rankings.RankingService>().ReconcileAsync(PlayWorld.CampaignId);
        Assert.True(reconcile.Matches, string.Join("; ", reconcile.Differences));
    }
}
