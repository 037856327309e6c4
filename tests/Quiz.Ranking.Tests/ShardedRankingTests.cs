namespace Quiz.Ranking.Tests;

/// <summary>Three redis-server processes of their own, the shards of one sharded engine.</summary>
public sealed class RedisShardsFixture : IAsyncLifetime
{
    public RedisServerFixture[] Servers { get; } = [new(), new(), new()];
    public IReadOnlyList<string> Configurations => Servers.Select(s => s.Configuration).ToList();

    /// <summary>
    /// One shard on its own, to look at what it holds. A generous wait: the default 500 ms read
    /// bound let a first read on a busy CI machine answer null (a member "missing" from its shard).
    /// </summary>
    public Task<RedisRankingEngine> OneAsync(int shard) => RedisRankingEngine.ConnectAsync(Configurations[shard],
        new RankingOptions { Engine = "Redis", FinishTimeout = TimeSpan.FromMinutes(1), ReadTimeout = TimeSpan.FromMinutes(1) });
    public Task InitializeAsync() => Task.WhenAll(Servers.Select(s => s.InitializeAsync()));
    public Task DisposeAsync() => Task.WhenAll(Servers.Select(s => s.DisposeAsync()));
}

/// <summary>The whole ranking contract with each campaign spread over three Redis shards (issue 18).</summary>
public class ShardedRankingTests(RedisShardsFixture shards) : RankingContract, IClassFixture<RedisShardsFixture>
{
    protected override async Task<IRankingEngine> CreateEngineAsync() =>
        await ShardedRankingEngine.ConnectAsync(shards.Configurations,
            new RankingOptions { Engine = "Redis", FinishTimeout = TimeSpan.FromMinutes(1), ReadTimeout = TimeSpan.FromMinutes(1) }, Time);

    [Fact]
    public async Task PeopleAreSpreadOverEveryShardAndEachShardHoldsOnlyItsOwn()
    {
        await using var engine = (ShardedRankingEngine)await CreateEngineAsync();
        var s = new TestStore();
        for (var p = 1; p <= 300; p++) await engine.RecordFinishAsync(s.Round(p, p % 50));
        var byShard = Enumerable.Range(1, 300).GroupBy(p => engine.ShardOf(p)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, byShard.Count);
        Assert.All(byShard.Values, n => Assert.InRange(n, 60, 140));
        for (var i = 0; i < 3; i++)
        {
            await using var one = await shards.OneAsync(i);
            Assert.Equal(byShard[i], await one.GetSizeAsync(BoardKey.National(s.Campaign, "main")));
        }
        Assert.Equal(300, await engine.GetSizeAsync(BoardKey.National(s.Campaign, "main")));
    }

    [Fact]
    public async Task AfterOneFinishEveryShardHoldsTheCampaignSoAShardWithoutPlayersIsNotReadAsLost()
    {
        await using var engine = (ShardedRankingEngine)await CreateEngineAsync();
        var s = new TestStore();
        Assert.False((await engine.CheckAsync(s.Campaign)).KeysPresent);
        Assert.False((await engine.RecordFinishAsync(s.Round(1, 10))).Pending);

        // Two shards have nobody on them yet; the watchdog must not read them as restarted empty.
        var health = await engine.CheckAsync(s.Campaign);
        Assert.True(health.KeysPresent);
        Assert.Equal(1, health.AppliedRounds);
        for (var i = 0; i < 3; i++)
        {
            await using var one = await shards.OneAsync(i);
            Assert.True((await one.CheckAsync(s.Campaign)).KeysPresent, $"shard {i} has no epoch for the campaign");
        }
    }
}

/// <summary>
/// The whole ranking contract with each campaign spread over three Redis shards by province
/// (<c>Ranking:ShardBy</c> "Province"; issue 18): a province's people and its units' boards on one shard.
/// </summary>
public class ShardedByProvinceRankingTests(RedisShardsFixture shards) : RankingContract, IClassFixture<RedisShardsFixture>
{
    protected override async Task<IRankingEngine> CreateEngineAsync() => await CreateAsync(new());

    Task<ShardedRankingEngine> CreateAsync(Dictionary<string, int> provinceShards) =>
        ShardedRankingEngine.ConnectAsync(shards.Configurations,
            new RankingOptions { Engine = "Redis", ShardBy = "Province", ProvinceShards = provinceShards, FinishTimeout = TimeSpan.FromMinutes(1), ReadTimeout = TimeSpan.FromMinutes(1) }, Time);

    [Fact]
    public async Task AProvincesPeopleLiveOnItsShardWhereTheSettingsPutItAndRanksAreExactOverEveryShard()
    {
        // Provinces 11 and 12 on shard 2 by the settings; 13 by its number (13 mod 3 = 1); 15 on shard 0.
        await using var engine = await CreateAsync(new() { ["11"] = 2, ["12"] = 2 });
        var s = new TestStore();
        string[] Path(long p) { var province = $"{11 + p % 5}"; return [province, province + "01", $"{province}01k{p % 2}"]; }
        for (var p = 1L; p <= 100; p++)
        {
            var ranks = await engine.RecordFinishAsync(s.Round(p, (int)(p % 7), path: Path(p), org: $"o{p % 3}"));
            Assert.False(ranks.Pending);
        }
        Assert.Equal([2, 2, 1, 2, 0], new[] { "11", "12", "13", "14", "15" }.Select(engine.ShardOfProvince));

        var values = BruteForce.Values(s.Rounds);
        for (var i = 0; i < 3; i++)
        {
            await using var one = await shards.OneAsync(i);
            var here = values.Keys.Where(p => engine.ShardOfProvince(Path(p)[0]) == i).ToList();
            Assert.Equal(here.Count, await one.GetSizeAsync(BoardKey.National(s.Campaign, "main")));
            foreach (var p in here) Assert.NotNull(await one.GetMemberAsync(BoardKey.National(s.Campaign, "main"), p));
        }
        foreach (var (p, value) in values)
        {
            var county = Path(p)[2];
            Assert.Equal(1 + values.Values.Count(v => v > value), (await engine.GetMemberAsync(BoardKey.National(s.Campaign, "main"), p))!.Rank);
            Assert.Equal(1 + values.Count(o => Path(o.Key)[2] == county && o.Value > value), (await engine.GetMemberAsync(BoardKey.Unit(s.Campaign, "main", county), p))!.Rank);
            Assert.Equal(1 + values.Count(o => o.Key % 3 == p % 3 && o.Value > value), (await engine.GetMemberAsync(BoardKey.Organisation(s.Campaign, "main", $"o{p % 3}"), p))!.Rank);
        }
        var rebuilt = await engine.RebuildAsync(s.Campaign, s.RoundsAfter);
        Assert.Equal(100, rebuilt.Rounds);
        var reconcile = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.True(reconcile.Matches, string.Join('\n', reconcile.Differences));
    }

    [Fact]
    public async Task AProvinceSentToAShardThatDoesNotExistIsRefusedAtStart()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => CreateAsync(new() { ["44"] = 3 }));
        Assert.Contains("Ranking:ProvinceShards:44", refused.Message);
        Assert.Throws<ArgumentException>(() => new RankingOptions { ShardBy = "County" }.Validate());
    }
}

/// <summary>One shard of three stopped and started again mid-run (issue 18, point 5).</summary>
public class ShardOutageTests : IAsyncLifetime
{
    readonly RedisShardsFixture shards = new();
    public Task InitializeAsync() => shards.InitializeAsync();
    public Task DisposeAsync() => shards.DisposeAsync();

    /// <summary>
    /// The engine over the three shards, with 90 people ranked. A generous wait: a finish over
    /// three shards on a busy machine may take longer than the default 200 ms, and these tests are
    /// of a shard away, not of the bound (a stopped shard's connection fails at once, not at the timeout).
    /// </summary>
    async Task<(ShardedRankingEngine Engine, TestStore Store)> NinetyRankedAsync()
    {
        var engine = await ShardedRankingEngine.ConnectAsync(shards.Configurations,
            new RankingOptions { Engine = "Redis", FinishTimeout = TimeSpan.FromSeconds(10), ReadTimeout = TimeSpan.FromSeconds(10) }, TimeProvider.System);
        var s = new TestStore();
        for (var p = 1; p <= 90; p++) Assert.False((await engine.RecordFinishAsync(s.Round(p, p % 40))).Pending);
        return (engine, s);
    }

    [Fact]
    public async Task AStoppedShardsPeopleArePendingTheOthersAreOnTheirBoardsAndItCatchesUpFromTheStoreAlone()
    {
        var (engine, s) = await NinetyRankedAsync();
        await using var _ = engine;
        var national = BoardKey.National(s.Campaign, "main");

        await shards.Servers[1].StopAsync();
        var onStopped = Enumerable.Range(91, 60).Where(p => engine.ShardOf(p) == 1).ToList();
        var onOthers = Enumerable.Range(91, 60).Where(p => engine.ShardOf(p) != 1).ToList();
        foreach (var p in onStopped.Concat(onOthers))
            // An exact rank needs every shard's count: while one is away, every finish answers pending.
            Assert.True((await engine.RecordFinishAsync(s.Round(p, 45))).Pending);
        Assert.True(engine.NeedsCatchUp(s.Campaign));
        // The rounds of people on the shards still up are on their boards already.
        for (var i = 0; i < 3; i++)
        {
            if (i == 1) continue;
            await using var one = await shards.OneAsync(i);
            foreach (var p in onOthers.Where(p => engine.ShardOf(p) == i))
                Assert.Equal(1, (await one.GetMemberAsync(national, p))!.Rank);
        }

        await shards.Servers[1].StartAsync(); // empty: Redis lost the shard's data
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var report = await RankingCatchUp.RunAsync(engine, s.Campaign, s.RoundsAfter, TimeSpan.FromMilliseconds(100), timeout.Token);
        Assert.False(engine.NeedsCatchUp(s.Campaign));
        // Only the stopped shard was rebuilt, from its own people's rounds.
        Assert.Equal(s.Rounds.Count(r => engine.ShardOf(r.ParticipantId) == 1), report.Rounds);

        var values = BruteForce.Values(s.Rounds);
        Assert.Equal(values.Count, await engine.GetSizeAsync(national));
        foreach (var p in new long[] { 1, 2, 3, onStopped[0], onOthers[0] })
            Assert.Equal(1 + values.Values.Count(v => v > values[p]), (await engine.GetMemberAsync(national, p))!.Rank);
        var after = await engine.RecordFinishAsync(s.Round(onStopped[0], 50));
        Assert.Equal((1L, false), (after.NationalRank!.Value, after.Pending));
        var reconcile = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.True(reconcile.Matches, string.Join('\n', reconcile.Differences));
    }

    [Fact]
    public async Task AShardRestartedEmptyUnseenByAnyFinishIsFoundByItsKeysAndRebuiltAloneWhileTheCampaignReadsAsCatchingUp()
    {
        var (engine, s) = await NinetyRankedAsync();
        await using var _ = engine;
        var national = BoardKey.National(s.Campaign, "main");
        var onOther = Enumerable.Range(1, 90).First(p => engine.ShardOf(p) != 1);

        await shards.Servers[1].StopAsync();
        await shards.Servers[1].StartAsync(); // empty, and no finish has met it away: nothing is marked
        Assert.False(engine.NeedsCatchUp(s.Campaign));
        Assert.False((await engine.CheckAsync(s.Campaign)).KeysPresent);

        // Seen from inside the rebuild: the campaign reads as catching up, a finish on a shard
        // that is whole answers pending (its rank would miss the people not yet back), and a rank
        // read answers nothing rather than a rank too good.
        var during = new List<(bool CatchingUp, bool FinishPending, BoardEntry? Read)>();
        async IAsyncEnumerable<RoundFinished> Watched(long after)
        {
            await foreach (var r in s.RoundsAfter(after))
            {
                if (during.Count == 0)
                    during.Add((engine.NeedsCatchUp(s.Campaign), (await engine.RecordFinishAsync(s.Round(onOther, 39))).Pending,
                        await engine.GetMemberAsync(national, onOther)));
                yield return r;
            }
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var report = await RankingCatchUp.RunAsync(engine, s.Campaign, Watched, TimeSpan.FromMilliseconds(100), timeout.Token);

        // Only the shard that lost its keys, from its own people's rounds.
        Assert.Equal(s.Rounds.Count(r => engine.ShardOf(r.ParticipantId) == 1), report.Rounds);
        Assert.Equal((true, true, (BoardEntry?)null), during.Single());
        Assert.False(engine.NeedsCatchUp(s.Campaign));
        var values = BruteForce.Values(s.Rounds);
        Assert.Equal(values.Count, await engine.GetSizeAsync(national));
        Assert.Equal(1 + values.Values.Count(v => v > values[onOther]), (await engine.GetMemberAsync(national, onOther))!.Rank);
        var reconcile = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.True(reconcile.Matches, string.Join('\n', reconcile.Differences));
    }
}
