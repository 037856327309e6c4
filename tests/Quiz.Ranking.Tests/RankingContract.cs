using Microsoft.Extensions.Time.Testing;

namespace Quiz.Ranking.Tests;

/// <summary>
/// The behaviour both engines promise. Each engine's test class derives from this and says how to
/// make the engine; every test uses a fresh campaign, so tests are independent of each other.
/// </summary>
public abstract class RankingContract
{
    protected readonly FakeTimeProvider Time = new(TestStore.Start);
    protected abstract Task<IRankingEngine> CreateEngineAsync();

    private protected static BoardKey National(TestStore s, string stage = "main") => BoardKey.National(s.Campaign, stage);

    [Fact]
    public async Task RanksByScoreThenDurationThenFinishTime()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        Assert.Equal(1, (await engine.RecordFinishAsync(s.Round(1, 4, 50_000, atSeconds: 100))).NationalRank);
        Assert.Equal(1, (await engine.RecordFinishAsync(s.Round(2, 5, 90_000, atSeconds: 200))).NationalRank);
        Assert.Equal(2, (await engine.RecordFinishAsync(s.Round(3, 5, 95_000, atSeconds: 150))).NationalRank);
        Assert.Equal(3, (await engine.RecordFinishAsync(s.Round(4, 5, 95_000, atSeconds: 300))).NationalRank);
        var top = await engine.GetTopAsync(National(s), 10);
        Assert.Equal([2L, 3, 4, 1], top.Select(e => e.ParticipantId));
        Assert.Equal([1L, 2, 3, 4], top.Select(e => e.Rank));
        Assert.Equal(new RankParts(5, 9000, 100), top[0].Parts);
    }

    [Fact]
    public async Task EqualValuesShareARank()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        await engine.RecordFinishAsync(s.Round(10, 5, 60_000, atSeconds: 10));
        var tie = await engine.RecordFinishAsync(s.Round(2, 5, 60_000, atSeconds: 10));
        await engine.RecordFinishAsync(s.Round(30, 3));
        Assert.Equal(1, tie.NationalRank);
        Assert.Equal([1L, 1, 3], (await engine.GetTopAsync(National(s), 3)).Select(e => e.Rank));
        Assert.Equal(1, (await engine.GetMemberAsync(National(s), 10))!.Rank);
        Assert.Equal(3, (await engine.GetMemberAsync(National(s), 30))!.Rank);
        Assert.Equal([1L, 1, 3], (await engine.GetAroundAsync(National(s), 30, 5)).Select(e => e.Rank));
    }

    [Fact]
    public async Task ValuesAtTheEncodingsLimitsRankExactly()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        var end = RankScore.MaxCampaignLength.TotalSeconds;
        var best = await engine.RecordFinishAsync(s.Round(1, RankScore.MaxScore, 0, atSeconds: 0));
        await engine.RecordFinishAsync(s.Round(2, RankScore.MaxScore, 0, atSeconds: 2));
        var worst = await engine.RecordFinishAsync(s.Round(3, 0, 10_000_000, atSeconds: end));
        Assert.Equal(RankScore.MaxValue, best.Value);
        Assert.Equal(RankScore.MaxValue - 1, (await engine.GetMemberAsync(National(s), 2))!.Value);
        Assert.Equal(0, worst.Value);
        Assert.Equal(3, worst.NationalRank);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engine.RecordFinishAsync(s.Round(4, RankScore.MaxScore + 1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engine.RecordFinishAsync(s.Round(5, 1, atSeconds: end + 2)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engine.RecordFinishAsync(s.Round(RoundFinished.MaxParticipantId + 1, 1)));
    }

    [Fact]
    public async Task BestOfAllKeepsTheBestRound()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        await engine.RecordFinishAsync(s.Round(1, 3, 30_000));
        var better = await engine.RecordFinishAsync(s.Round(1, 4, 90_000, atSeconds: 50));
        var worse = await engine.RecordFinishAsync(s.Round(1, 2, 10_000, atSeconds: 90));
        Assert.Equal(better.Value, worse.Value);
        Assert.Equal(new RankParts(4, 9000, 25), RankScore.Decode(worse.Value));
        Assert.Equal(1, await engine.GetSizeAsync(National(s)));
    }

    [Fact]
    public async Task BestOfDaySummedAddsEachDaysBest()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        const AggregationRule rule = AggregationRule.BestOfDaySummed;
        await engine.RecordFinishAsync(s.Round(1, 3, 30_000, atSeconds: 10, rule: rule));
        await engine.RecordFinishAsync(s.Round(1, 5, 40_000, atSeconds: 20, rule: rule));
        await engine.RecordFinishAsync(s.Round(1, 4, 10_000, atSeconds: 30, rule: rule));
        var r = await engine.RecordFinishAsync(s.Round(1, 2, 20_000, atSeconds: 40, rule: rule, day: 1));
        Assert.Equal(new RankParts(7, 6000, (86_400 + 40) / 2), RankScore.Decode(r.Value));
        r = await engine.RecordFinishAsync(s.Round(1, 1, 20_000, atSeconds: 50, rule: rule, day: 1));
        Assert.Equal(new RankParts(7, 6000, (86_400 + 40) / 2), RankScore.Decode(r.Value));
        r = await engine.RecordFinishAsync(s.Round(1, 4, 30_000, atSeconds: 60, rule: rule, day: 1));
        Assert.Equal(new RankParts(9, 7000, (86_400 + 60) / 2), RankScore.Decode(r.Value));
    }

    [Fact]
    public async Task BestPerGroupSummedAddsEachGroupsBestAndABetterRetryReplacesOnlyItsGroup()
    {
        // 2024: four scenes, the best attempt of each counts (ties to the shorter time), summed.
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        const AggregationRule rule = AggregationRule.BestPerGroupSummed;
        await engine.RecordFinishAsync(s.Round(1, 5, 30_000, atSeconds: 10, rule: rule, group: "campus"));
        await engine.RecordFinishAsync(s.Round(1, 4, 40_000, atSeconds: 20, rule: rule, group: "workplace", day: 1));
        await engine.RecordFinishAsync(s.Round(1, 5, 50_000, atSeconds: 30, rule: rule, group: "city", day: 2));
        var r = await engine.RecordFinishAsync(s.Round(1, 3, 60_000, atSeconds: 40, rule: rule, group: "countryside", day: 3));
        Assert.Equal(new RankParts(17, 18_000, (3 * 86_400 + 40) / 2), RankScore.Decode(r.Value));

        // Worse, and equal but slower, retries change nothing; the same score faster replaces that scene's best alone.
        r = await engine.RecordFinishAsync(s.Round(1, 2, 10_000, atSeconds: 50, rule: rule, group: "workplace", day: 3));
        r = await engine.RecordFinishAsync(s.Round(1, 4, 45_000, atSeconds: 60, rule: rule, group: "workplace", day: 3));
        Assert.Equal(new RankParts(17, 18_000, (3 * 86_400 + 40) / 2), RankScore.Decode(r.Value));
        r = await engine.RecordFinishAsync(s.Round(1, 4, 35_000, atSeconds: 70, rule: rule, group: "workplace", day: 4));
        Assert.Equal(new RankParts(17, 17_500, (4 * 86_400 + 70) / 2), RankScore.Decode(r.Value));
        // A better retry in one scene: 5, 5, 5, 3 = 18, the other scenes' bests untouched.
        r = await engine.RecordFinishAsync(s.Round(1, 5, 20_000, atSeconds: 80, rule: rule, group: "workplace", day: 5));
        Assert.Equal(new RankParts(18, 16_000, (5 * 86_400 + 80) / 2), RankScore.Decode(r.Value));

        // Groups are per person: another person's campus round is their own.
        var other = await engine.RecordFinishAsync(s.Round(2, 5, 1_000, atSeconds: 90, rule: rule, group: "campus", day: 5));
        Assert.Equal((5, 2L), (RankScore.Decode(other.Value).Score, other.NationalRank!.Value));
        Assert.Equal(18, RankScore.Decode((await engine.GetMemberAsync(National(s), 1))!.Value).Score);
        await Assert.ThrowsAsync<ArgumentException>(() => engine.RecordFinishAsync(s.Round(3, 1, rule: rule, group: null)));
    }

    [Fact]
    public async Task SumAddsEveryRound()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        await engine.RecordFinishAsync(s.Round(1, 3, 30_000, atSeconds: 10, rule: AggregationRule.Sum));
        await engine.RecordFinishAsync(s.Round(1, 5, 40_000, atSeconds: 20, rule: AggregationRule.Sum));
        var r = await engine.RecordFinishAsync(s.Round(1, 1, 10_000, atSeconds: 30, rule: AggregationRule.Sum, day: 1));
        Assert.Equal(new RankParts(9, 8000, (86_400 + 30) / 2), RankScore.Decode(r.Value));
        var other = await engine.RecordFinishAsync(s.Round(2, 5, 1_000, rule: AggregationRule.Sum));
        Assert.Equal(2, other.NationalRank);
    }

    [Fact]
    public async Task StagesHaveTheirOwnBoardsAndRules()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        await engine.RecordFinishAsync(s.Round(1, 5, stage: "warmup"));
        await engine.RecordFinishAsync(s.Round(2, 1, stage: "main", rule: AggregationRule.Sum));
        await engine.RecordFinishAsync(s.Round(2, 1, stage: "main", rule: AggregationRule.Sum, atSeconds: 5));
        Assert.Equal(1, await engine.GetSizeAsync(National(s, "warmup")));
        Assert.Equal(2, RankScore.Decode((await engine.GetMemberAsync(National(s, "main"), 2))!.Value).Score);
        Assert.Null(await engine.GetMemberAsync(National(s, "main"), 1));
    }

    [Fact]
    public async Task UnitAndOrganisationBoardsRankWithinTheirMembers()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        string[] east = ["11", "1101", "110101"], west = ["11", "1101", "110102"];
        await engine.RecordFinishAsync(s.Round(1, 5, path: east, org: "a"));
        await engine.RecordFinishAsync(s.Round(2, 4, path: west, org: "a"));
        var r = await engine.RecordFinishAsync(s.Round(3, 3, path: west, org: "b"));
        Assert.Equal((new Place(3, 3), new Place(2, 2), new Place(1, 1)), (r.National, r.Unit, r.Organisation));
        Assert.Equal(2L, (await engine.GetMemberAsync(BoardKey.Unit(s.Campaign, "main", "110102"), 3))?.Rank);
        Assert.Equal(1L, (await engine.GetMemberAsync(BoardKey.Organisation(s.Campaign, "main", "b"), 3))?.Rank);
        Assert.Equal(2L, (await engine.GetMemberAsync(BoardKey.Organisation(s.Campaign, "main", "a"), 2))?.Rank);
        var noOrg = await engine.RecordFinishAsync(s.Round(4, 1, path: ["12"], org: null));
        Assert.Equal((new Place(4, 4), new Place(1, 1), (Place?)null), (noOrg.National, noOrg.Unit, noOrg.Organisation));
        Assert.Equal(1L, (await engine.GetMemberAsync(BoardKey.Unit(s.Campaign, "main", "12"), 4))?.Rank);
        Assert.Null(await engine.GetMemberAsync(BoardKey.Organisation(s.Campaign, "main", "a"), 4));
        Assert.Equal([2L, 3], (await engine.GetTopAsync(BoardKey.Unit(s.Campaign, "main", "110102"), 5)).Select(e => e.ParticipantId));
        Assert.Equal(2, await engine.GetSizeAsync(BoardKey.Organisation(s.Campaign, "main", "a")));
    }

    [Fact]
    public async Task AroundReturnsTheMembersEitherSide()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        for (var p = 1; p <= 20; p++) await engine.RecordFinishAsync(s.Round(p, 100 - p));
        var around = await engine.GetAroundAsync(National(s), 10, 2);
        Assert.Equal([8L, 9, 10, 11, 12], around.Select(e => e.ParticipantId));
        Assert.Equal([8L, 9, 10, 11, 12], around.Select(e => e.Rank));
        Assert.Equal([1L, 2, 3], (await engine.GetAroundAsync(National(s), 1, 2)).Select(e => e.ParticipantId));
        Assert.Equal([19L, 20], (await engine.GetAroundAsync(National(s), 20, 1)).Select(e => e.ParticipantId));
        Assert.Empty(await engine.GetAroundAsync(National(s), 99, 2));
        Assert.Null(await engine.GetMemberAsync(National(s), 99));
        Assert.Equal(20, await engine.GetSizeAsync(National(s)));
        Assert.Equal(0, await engine.GetSizeAsync(National(s, "nope")));
    }

    [Fact]
    public async Task ARepeatedRoundChangesNothing()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        var round = s.Round(1, 3, rule: AggregationRule.Sum);
        var first = await engine.RecordFinishAsync(round);
        var again = await engine.RecordFinishAsync(round);
        Assert.Equal(first, again);
        Assert.Equal(1, (await engine.CheckAsync(s.Campaign)).AppliedRounds);
    }

    [Fact]
    public async Task TopListsComeFromTheCacheUntilItsRefresh()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        await engine.RecordFinishAsync(s.Round(1, 3));
        Assert.Single(await engine.GetTopAsync(National(s), 10));
        await engine.RecordFinishAsync(s.Round(2, 4));
        Assert.Single(await engine.GetTopAsync(National(s), 10)); // cached until the refresh
        Assert.Equal(2, (await engine.GetMemberAsync(National(s), 1))!.Rank); // ranks are live
        await engine.RefreshAsync();
        Assert.Equal([2L, 1], (await engine.GetTopAsync(National(s), 10)).Select(e => e.ParticipantId));
    }

    /// <summary>
    /// The standing the leaderboard page reads, in one call: the person's rank and value on
    /// the national, county and organisation boards with each board's size, against a brute force
    /// over the rounds so far (ties included; with several shards, counted and sized on every one).
    /// A board the person is not on answers null, and so does every board for someone who never played.
    /// </summary>
    [Fact]
    public async Task AStandingGivesEachBoardsRankValueAndSizeAsABruteForceModelDoes()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        var random = new Random(20230615);
        var people = Enumerable.Range(1, 60).Select(p => (Id: (long)p, Province: $"{11 + p % 4}", Org: random.Next(3) == 0 ? null : $"o{random.Next(2)}"))
            .Select(p => (p.Id, p.Province, County: $"{p.Province}01k{random.Next(2)}", p.Org)).ToList();
        var played = new List<(RoundFinished Round, string County, string? Org)>();
        (long Rank, long Value, long Size)? Expected(IEnumerable<(RoundFinished Round, string County, string? Org)> rounds, long participant)
        {
            var values = BruteForce.Values(rounds.Select(r => r.Round));
            return values.TryGetValue(participant, out var v) ? (1 + values.Values.Count(x => x > v), v, values.Count) : null;
        }
        for (var i = 0; i < 150; i++)
        {
            var p = people[random.Next(people.Count)];
            var round = s.Round(p.Id, random.Next(0, 6), 60_000, atSeconds: 30, path: [p.Province, p.Province + "01", p.County], org: p.Org);
            played.Add((round, p.County, p.Org));
            Assert.False((await engine.RecordFinishAsync(round)).Pending);
            // Their own boards, and an organisation they are not in (null).
            var otherOrg = p.Org == "o0" ? "o1" : "o0";
            var boards = new[] { National(s), BoardKey.Unit(s.Campaign, "main", p.County), BoardKey.Organisation(s.Campaign, "main", p.Org ?? otherOrg) };
            var standings = await engine.GetStandingsAsync(boards, p.Id);
            Assert.Equal(3, standings.Count);
            Assert.Equal(Expected(played, p.Id), Of(standings[0]));
            Assert.Equal(Expected(played.Where(r => r.County == p.County), p.Id), Of(standings[1]));
            Assert.Equal(p.Org is null ? null : Expected(played.Where(r => r.Org == p.Org), p.Id), Of(standings[2]));
            Assert.All(standings, st => Assert.True(st is null || st.Entry.ParticipantId == p.Id));
        }
        // Everyone's standing at the end, and someone who never played.
        foreach (var p in people)
        {
            var standings = await engine.GetStandingsAsync([National(s), BoardKey.Unit(s.Campaign, "main", p.County)], p.Id);
            Assert.Equal(Expected(played, p.Id), Of(standings[0]));
            Assert.Equal(Expected(played.Where(r => r.County == p.County), p.Id), Of(standings[1]));
        }
        Assert.All(await engine.GetStandingsAsync([National(s), BoardKey.Unit(s.Campaign, "main", "1101k0")], 999), Assert.Null);
        Assert.Empty(await engine.GetStandingsAsync([], 1));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.GetStandingsAsync([National(s), BoardKey.National("another", "main")], 1));

        static (long Rank, long Value, long Size)? Of(BoardStanding? standing) =>
            standing is null ? null : (standing.Entry.Rank, standing.Entry.Value, standing.Size);
    }

    /// <summary>
    /// Every rank a finish answers, and every rank a lookup or the list around a person answers,
    /// against a brute force over the rounds so far: few scores and one duration and time make many
    /// ties, which must share a rank (with several Redis shards, ties across shards).
    /// </summary>
    [Fact]
    public async Task EveryRankMatchesABruteForceModelIncludingTies()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        var random = new Random(20230612);
        // Four provinces (several Redis shards by province), counties of their own in each, and
        // organisations whose people live in every province.
        var people = Enumerable.Range(1, 120).Select(p => (Id: (long)p, Province: $"{11 + p % 4}", Org: random.Next(3) == 0 ? null : $"o{random.Next(2)}"))
            .Select(p => (p.Id, p.Province, County: $"{p.Province}01k{random.Next(3)}", p.Org)).ToList();
        var played = new List<(RoundFinished Round, string County, string? Org)>();
        long Expected(IEnumerable<(RoundFinished Round, string County, string? Org)> rounds, long participant)
        {
            var values = BruteForce.Values(rounds.Select(r => r.Round));
            return 1 + values.Values.Count(v => v > values[participant]);
        }
        for (var i = 0; i < 360; i++)
        {
            var p = people[random.Next(people.Count)];
            var round = s.Round(p.Id, random.Next(0, 6), 60_000, atSeconds: 30, path: [p.Province, p.Province + "01", p.County], org: p.Org);
            played.Add((round, p.County, p.Org));
            var ranks = await engine.RecordFinishAsync(round);
            Assert.False(ranks.Pending);
            // The finish's three places, each with its board's size (the members who have played on it).
            long Size(IEnumerable<(RoundFinished Round, string County, string? Org)> on) => on.Select(r => r.Round.ParticipantId).Distinct().LongCount();
            Assert.Equal(new Place(Expected(played, p.Id), Size(played)), ranks.National);
            var county = played.Where(r => r.County == p.County).ToList();
            Assert.Equal(new Place(Expected(county, p.Id), Size(county)), ranks.Unit);
            var organisation = played.Where(r => r.Org is { } o && o == p.Org).ToList();
            Assert.Equal(p.Org is null ? null : new Place(Expected(organisation, p.Id), Size(organisation)), ranks.Organisation);
        }
        var national = National(s);
        var values = BruteForce.Values(s.Rounds);
        foreach (var (id, value) in values)
        {
            var member = await engine.GetMemberAsync(national, id);
            Assert.Equal((1 + values.Values.Count(v => v > value), value), (member!.Rank, member.Value));
        }
        foreach (var p in people.Where(p => values.ContainsKey(p.Id)))
        {
            Assert.Equal(Expected(played.Where(r => r.County == p.County), p.Id), (await engine.GetMemberAsync(BoardKey.Unit(s.Campaign, "main", p.County), p.Id))!.Rank);
            if (p.Org is not null)
                Assert.Equal(Expected(played.Where(r => r.Org == p.Org), p.Id), (await engine.GetMemberAsync(BoardKey.Organisation(s.Campaign, "main", p.Org), p.Id))!.Rank);
        }
        var someone = values.Keys.Order().Skip(values.Count / 2).First();
        var around = await engine.GetAroundAsync(national, someone, 3);
        Assert.Contains(around, e => e.ParticipantId == someone);
        Assert.InRange(around.Count, 4, 7);
        foreach (var e in around) Assert.Equal((1 + values.Values.Count(v => v > e.Value), values[e.ParticipantId]), (e.Rank, e.Value));
        Assert.Equal(around.OrderByDescending(e => e.Value).Select(e => e.Value), around.Select(e => e.Value));
        var top = await engine.GetTopAsync(national, 10);
        Assert.Equal(values.Values.OrderDescending().Take(10), top.Select(e => e.Value));
        foreach (var e in top) Assert.Equal(1 + values.Values.Count(v => v > e.Value), e.Rank);
    }

    [Fact]
    public async Task ParallelFinishesLoseNoUpdate()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        const int people = 400, roundsEach = 5;
        var rounds = Enumerable.Range(1, people).Select(p => Enumerable.Range(0, roundsEach)
            .Select(i => s.Round(p, 1 + (p * 7 + i) % 90, 60_000, p + i * 1000, AggregationRule.Sum, path: ["11", "1101", $"k{p % 7}"], org: $"o{p % 3}")).ToList()).ToList();
        // Each person's rounds in order (as the server guarantees), all people at once.
        await Task.WhenAll(rounds.Select(mine => Task.Run(async () =>
        {
            foreach (var r in mine) Assert.False((await engine.RecordFinishAsync(r)).Pending);
        })));
        Assert.Equal(people, await engine.GetSizeAsync(National(s)));
        var expected = BruteForce.Values(s.Rounds);
        foreach (var p in new long[] { 1, 77, 400 })
            Assert.Equal(expected[p], (await engine.GetMemberAsync(National(s), p))!.Value);
        Assert.Equal(people * roundsEach, (await engine.CheckAsync(s.Campaign)).AppliedRounds);
    }

    [Fact]
    public async Task ConcurrentRankQueriesAnswerEachCaller()
    {
        // The Redis engine coalesces concurrent lookups (of several boards) into one call: each caller must get its own answer.
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        for (var p = 1; p <= 60; p++) await engine.RecordFinishAsync(s.Round(p, p % 20, path: ["11", "1101", $"k{p % 2}"], org: $"o{p % 3}"));
        var expected = BruteForce.Values(s.Rounds);
        long RankAmong(Func<long, bool> member, long p) => 1 + expected.Count(e => member(e.Key) && e.Value > expected[p]);
        var queries = Enumerable.Range(1, 61).SelectMany(p => new (BoardKey Board, long P, long? Rank)[]
        {
            (National(s), p, p > 60 ? null : RankAmong(_ => true, p)),
            (BoardKey.Unit(s.Campaign, "main", $"k{p % 2}"), p, p > 60 ? null : RankAmong(o => o % 2 == p % 2, p)),
            (BoardKey.Organisation(s.Campaign, "main", $"o{p % 3}"), p, p > 60 ? null : RankAmong(o => o % 3 == p % 3, p)),
        }).ToList();
        var answers = await Task.WhenAll(queries.Select(q => Task.Run(() => engine.GetMemberAsync(q.Board, q.P))));
        for (var i = 0; i < queries.Count; i++)
        {
            Assert.Equal(queries[i].Rank, answers[i]?.Rank);
            if (queries[i].Rank is not null) Assert.Equal(expected[queries[i].P], answers[i]!.Value);
        }
    }

    [Fact]
    public async Task RebuildEqualsTheLiveBoards()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var p = random.Next(1, 120);
            // stage s0 best of all, s1 best of each day summed, s2 best of each group (scene) summed
            AggregationRule[] rules = [AggregationRule.BestOfAll, AggregationRule.BestOfDaySummed, AggregationRule.BestPerGroupSummed];
            await engine.RecordFinishAsync(s.Round(p, random.Next(0, 50), random.Next(1000, 100_000), i * 60,
                rules[i % 3], "s" + i % 3, ["11", "1101", $"k{p % 4}"], $"o{p % 3}", day: i / 200, group: "g" + random.Next(4)));
        }
        var before = await engine.GetTopAsync(National(s, "s1"), 50);
        var beforeGroups = await engine.GetTopAsync(National(s, "s2"), 50);
        var live = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.True(live.Matches, string.Join('\n', live.Differences));

        var report = await engine.RebuildAsync(s.Campaign, s.RoundsAfter);
        Assert.Equal(500, report.Rounds);
        Assert.Equal(s.Rounds.Select(r => r.ParticipantId).Distinct().Count(), report.Participants);
        Assert.Equal(before, await engine.GetTopAsync(National(s, "s1"), 50));
        Assert.Equal(beforeGroups, await engine.GetTopAsync(National(s, "s2"), 50));
        var reconcile = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.True(reconcile.Matches, string.Join('\n', reconcile.Differences));
        Assert.True(reconcile.MembersChecked > 100);

        // Play goes on from the rebuilt state: people already counted that day or in the campaign
        // are not counted again, newcomers are, and a round already applied changes nothing.
        var known = s.Rounds[^1];
        var again = await engine.RecordFinishAsync(known);
        Assert.Equal((await engine.GetMemberAsync(National(s, known.StageId), known.ParticipantId))!.Rank, again.NationalRank);
        for (var p = 100; p < 130; p++)
            await engine.RecordFinishAsync(s.Round(p, random.Next(0, 50), random.Next(1000, 100_000), 1, AggregationRule.BestOfDaySummed, "s1",
                ["11", "1101", $"k{p % 4}"], $"o{p % 3}", day: 2));
        await engine.RecordFinishAsync(s.Round(500, 49, 1000, 1, AggregationRule.BestOfAll, "s0", ["11", "1101", "k9"], null, day: 3));
        var after = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.True(after.Matches, string.Join('\n', after.Differences));
    }

    [Fact]
    public async Task ReconcileReportsBoardsThatDifferFromTheStore()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        await engine.RecordFinishAsync(s.Round(1, 3));
        await engine.RecordFinishAsync(s.Round(2, 4));
        s.Round(3, 5); // committed to the store, never recorded
        var report = await engine.ReconcileAsync(s.Campaign, s.All);
        Assert.False(report.Matches);
        Assert.Contains(report.Differences, d => d.Contains("participant 3"));
    }

    [Fact]
    public async Task FinishesDuringARebuildArePendingAndNotLost()
    {
        await using var engine = await CreateEngineAsync();
        var s = new TestStore();
        for (var p = 1; p <= 50; p++) await engine.RecordFinishAsync(s.Round(p, p % 10));
        var gate = new TaskCompletionSource();
        var replayed = new TaskCompletionSource();
        async IAsyncEnumerable<RoundFinished> Slow(long after)
        {
            var first = after == 0;
            await foreach (var r in s.RoundsAfter(after))
            {
                yield return r;
                if (first && r.RoundId == s.Rounds[10].RoundId) { replayed.TrySetResult(); await gate.Task; }
            }
        }
        var rebuild = engine.RebuildAsync(s.Campaign, Slow);
        await replayed.Task;
        var during = await engine.RecordFinishAsync(s.Round(999, 50));
        Assert.True(during.Pending);
        gate.SetResult();
        await rebuild;
        Assert.Equal(1, (await engine.GetMemberAsync(National(s), 999))!.Rank);
        Assert.True((await engine.ReconcileAsync(s.Campaign, s.All)).Matches);
    }
}

static class DateExtensions
{
    public static DateOnly ToDateOnly(this DateTimeOffset t) => DateOnly.FromDateTime(t.DateTime);
}

/// <summary>The rules and roll-ups computed the obvious way, from all rounds at once.</summary>
static class BruteForce
{
    public static Dictionary<long, long> Values(IEnumerable<RoundFinished> rounds) =>
        rounds.GroupBy(r => r.ParticipantId).ToDictionary(g => g.Key, g =>
        {
            var list = g.OrderBy(r => r.RoundId).ToList();
            var encoded = list.Select(r => (Round: r, Value: RankScore.Encode(r.Score, r.DurationMs, r.FinishedAt, r.CampaignStart))).ToList();
            switch (list[0].Rule)
            {
                case AggregationRule.BestOfAll:
                    return encoded.Max(e => e.Value);
                case AggregationRule.Sum:
                    return RankScore.Pack(list.Sum(r => r.Score), encoded.Sum(e => RankScore.Decode(e.Value).DurationUnits), RankScore.Decode(encoded[^1].Value).TimeUnits);
                default:
                    // each day's best is its first round with the day's maximal value
                    var bests = encoded.GroupBy(e => e.Round.Day).Select(d => d.First(e => e.Value == d.Max(x => x.Value)).Value).Select(RankScore.Decode).ToList();
                    return RankScore.Pack(bests.Sum(b => b.Score), bests.Sum(b => b.DurationUnits), bests.Max(b => b.TimeUnits));
            }
        });

    public static Dictionary<string, (long Participants, long Rounds, long Points, long Headcount)> Units(IEnumerable<RoundFinished> rounds, UnitLevel level, IReadOnlyList<UnitBase> bases)
    {
        string? UnitOf(RoundFinished r) => level switch
        {
            UnitLevel.OrganisationType => r.OrganisationType,
            UnitLevel.Organisation => r.OrganisationId,
            _ => r.RegionPath.Count > (int)level ? r.RegionPath[(int)level] : null,
        };
        long Base(string code) => level switch
        {
            UnitLevel.County => bases.Where(b => b.Code == code).Sum(b => b.Headcount),
            UnitLevel.City => bases.Where(b => b.ParentCode == code).Sum(b => b.Headcount),
            UnitLevel.Province => bases.Where(b => b.ParentCode!.StartsWith(code)).Sum(b => b.Headcount),
            _ => 0,
        };
        return rounds.Where(r => UnitOf(r) is not null).GroupBy(r => UnitOf(r)!)
            .ToDictionary(g => g.Key, g => ((long)g.Select(r => r.ParticipantId).Distinct().Count(), (long)g.Count(), g.Sum(r => (long)r.Score), Base(g.Key)));
    }
}
