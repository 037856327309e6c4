using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Quiz.Ranking;
using Quiz.Server.Participants;
using Quiz.Server.Play;
using Quiz.Server.Questions;
using Quiz.Server.Rankings;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Rankings;

public sealed class RankingsApiTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Plays a round answering the first <paramref name="right"/> questions right, taking <paramref name="seconds"/>.</summary>
    private Task<(long Id, string Token, RoundResult Result)> PlayAsync(int right, int seconds, string region = PlayWorld.County, string? organisation = PlayWorld.Bank) =>
        PlayAsync(_app, right, seconds, region, organisation);

    private static async Task<(long Id, string Token, RoundResult Result)> PlayAsync(QuizApplication app, int right, int seconds,
        string region = PlayWorld.County, string? organisation = PlayWorld.Bank, ParticipantsApi.Registered? player = null)
    {
        var registered = player ?? await PlayWorld.RegisterAsync(app, region: region, organisation: organisation);
        var id = registered.Participant.ParticipantId;
        var rounds = app.Service<RoundService>();
        var bank = (await app.Service<QuestionBank>().ListAsync()).ToDictionary(q => q.Question.Id, q => q.Question);
        var round = await rounds.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));
        app.Clock.Advance(TimeSpan.FromSeconds(seconds));
        for (var i = 0; i < round.Questions.Count; i++)
        {
            var shown = round.Questions[i];
            var question = bank[shown.QuestionId];
            var key = question.AnswerIndexes.Select(k => shown.Options.ToList().IndexOf(question.Options[k])).Order().ToArray();
            var wrong = Enumerable.Range(0, shown.Options.Count).First(o => !key.Contains(o));
            await rounds.AnswerAsync(id, new AnswerRequest(round.RoundId, i, i < right ? key : [wrong]));
        }
        return (id, registered.Token, await rounds.FinishAsync(id, new FinishRequest(round.RoundId)));
    }

    [Fact]
    public async Task TheTopListOrdersByScoreThenDuration()
    {
        var best = await PlayAsync(5, 30);
        var fastFour = await PlayAsync(4, 10);
        var slowFour = await PlayAsync(4, 20);
        await Staff.FlushRankingsAsync(_app);
        using var client = _app.CreateClient();

        var top = await client.GetFromJsonAsync<List<RankingService.Entry>>($"/api/rankings/{PlayWorld.CampaignId}/main/top?n=10");
        Assert.NotNull(top);

        Assert.Equal([best.Id, fastFour.Id, slowFour.Id], top.Select(e => e.ParticipantId));
        Assert.Equal([1L, 2L, 3L], top.Select(e => e.Rank));
        Assert.Equal([5, 4, 4], top.Select(e => e.Score));
        Assert.Equal([30_000, 10_000, 20_000], top.Select(e => e.DurationMs));
        Assert.All(top, e => Assert.Equal(("测试用户", "瑶海区"), (e.Nickname, e.Region)));
        Assert.Equal((1L, 2L, 3L), (best.Result.NationalRank, fastFour.Result.NationalRank, slowFour.Result.NationalRank));
    }

    [Fact]
    public async Task MyRanksShowEveryBoardThePeopleAroundMeAndMyUnit()
    {
        await PlayAsync(5, 10);
        var me = await PlayAsync(3, 10, organisation: null);
        await PlayAsync(1, 10, region: PlayWorld.OtherCounty);
        await Staff.FlushRankingsAsync(_app);
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", me.Token);

        var ranks = await client.GetFromJsonAsync<RankingsApi.MyRanks>($"/api/rankings/{PlayWorld.CampaignId}/main/me?around=1");

        Assert.Equal(new RankingService.Standing(2, 3, 10_000, 3), ranks!.National);
        Assert.Equal(new RankingService.Standing(2, 3, 10_000, 2), ranks.Unit);
        Assert.Null(ranks.Organisation);
        Assert.Equal([1L, 2L, 3L], ranks.Around.Select(a => a.Rank));
        Assert.Equal(PlayWorld.County, ranks.MyUnit!.Code);
        Assert.Equal((2L, 1L, 1L), (ranks.MyUnit.Participants, ranks.MyUnit.SiblingRank, ranks.MyUnit.NationalRank));
    }

    /// <summary>The result page's read after a round: the reply has the places, so only my county's row is read.</summary>
    [Fact]
    public async Task MyUnitAloneIsTheRowMyStandingShows()
    {
        await PlayAsync(5, 10, region: PlayWorld.OtherCounty);
        await PlayAsync(4, 10, region: PlayWorld.OtherCounty);
        var me = await PlayAsync(3, 10);
        await Staff.FlushRankingsAsync(_app);
        using var client = _app.CreateClient();
        using var anonymous = await client.GetAsync($"/api/rankings/{PlayWorld.CampaignId}/units/mine");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", me.Token);

        var mine = await client.GetFromJsonAsync<RankingService.UnitRow>($"/api/rankings/{PlayWorld.CampaignId}/units/mine");
        var ranks = await client.GetFromJsonAsync<RankingsApi.MyRanks>($"/api/rankings/{PlayWorld.CampaignId}/main/me?around=0");
        using var unknown = await client.GetAsync("/api/rankings/no-such-campaign/units/mine");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal((PlayWorld.County, 1L, 2L), (mine!.Code, mine.Participants, mine.SiblingRank)); // one person here, two in the other county
        Assert.Equal(ranks!.MyUnit, mine);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>
    /// The cheap form of the standing (around=0): the person alone in the list around
    /// them, named and placed as on the national board, with their three places and each board's size.
    /// </summary>
    [Fact]
    public async Task AroundZeroListsThePersonAloneWithEveryPlace()
    {
        await PlayAsync(5, 10);
        await PlayAsync(4, 10, region: PlayWorld.OtherCounty);
        var me = await PlayAsync(3, 10);
        await Staff.FlushRankingsAsync(_app);
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", me.Token);

        var ranks = await client.GetFromJsonAsync<RankingsApi.MyRanks>($"/api/rankings/{PlayWorld.CampaignId}/main/me?around=0");

        Assert.Equal(new RankingService.Standing(3, 3, 10_000, 3), ranks!.National);
        Assert.Equal(new RankingService.Standing(2, 3, 10_000, 2), ranks.Unit);
        Assert.Equal(new RankingService.Standing(3, 3, 10_000, 3), ranks.Organisation);
        var alone = Assert.Single(ranks.Around);
        Assert.Equal((me.Id, 3L, 3, 10_000, "测试用户", "瑶海区"), (alone.ParticipantId, alone.Rank, alone.Score, alone.DurationMs, alone.Nickname, alone.Region));
        // The round's own reply gave the same places (the person played last: nothing moved since).
        var r = me.Result;
        Assert.Equal((3L, 3L, 2L, 2L, 3L, 3L), (r.NationalRank, r.NationalBoardSize, r.UnitRank, r.UnitBoardSize, r.OrganisationRank, r.OrganisationBoardSize));
    }

    [Fact]
    public async Task UnitBoardsRankUnitsByTheChosenMetric()
    {
        await PlayAsync(5, 10, region: PlayWorld.County);
        await PlayAsync(1, 10, region: PlayWorld.OtherCounty);
        await PlayAsync(1, 10, region: PlayWorld.OtherCounty);
        await Staff.FlushRankingsAsync(_app);
        using var client = _app.CreateClient();

        var byParticipants = await client.GetFromJsonAsync<List<RankingService.UnitRow>>($"/api/rankings/{PlayWorld.CampaignId}/units?level=county&metric=participants");
        var byAverage = await client.GetFromJsonAsync<List<RankingService.UnitRow>>($"/api/rankings/{PlayWorld.CampaignId}/units?level=county&metric=average-points&parent={PlayWorld.City}");
        using var bad = await client.GetAsync($"/api/rankings/{PlayWorld.CampaignId}/units?level=planet");

        Assert.Equal([PlayWorld.OtherCounty, PlayWorld.County], byParticipants!.Take(2).Select(r => r.Code));
        Assert.Equal("庐阳区", byParticipants![0].Name);
        Assert.Equal([PlayWorld.County, PlayWorld.OtherCounty], byAverage!.Take(2).Select(r => r.Code));
        Assert.Equal(5.0, byAverage![0].AveragePoints);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Theory]
    [InlineData("best", 4)]                 // the best round: 4
    [InlineData("best-of-day-summed", 6)]   // day one's best (4) + day two's (2)
    [InlineData("sum", 9)]                  // 3 + 4 + 2
    public async Task TheStageRuleDecidesWhatAPersonIsRankedBy(string rule, int expected)
    {
        var aggregation = System.Text.Json.JsonSerializer.Deserialize<Quiz.Server.Campaigns.Aggregation>($"\"{rule}\"", Quiz.Server.Campaigns.Campaign.Json);
        using var app = new QuizApplication();
        await PlayWorld.SeedAsync(app, PlayWorld.Campaign(s => s with { Aggregation = aggregation }));
        // One person playing three rounds on their one phone: registered once, the token kept.
        var player = await PlayWorld.RegisterAsync(app);
        await PlayAsync(app, 3, 5, player: player);
        await PlayAsync(app, 4, 5, player: player);
        app.Clock.Advance(TimeSpan.FromDays(1));
        var (_, token, last) = await PlayAsync(app, 2, 5, player: player);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var ranks = await client.GetFromJsonAsync<RankingsApi.MyRanks>($"/api/rankings/{PlayWorld.CampaignId}/main/me");

        Assert.Equal(expected, ranks!.National!.Score);
        Assert.Equal(1, last.NationalRank);
    }

    [Fact]
    public async Task AdminsRebuildFromTheStoreAndTheBoardsReconcile()
    {
        for (var i = 0; i < 4; i++) await PlayAsync(i + 1, 10);
        await Staff.FlushRankingsAsync(_app);
        using var admin = _app.CreateAdminClient();

        using var rebuild = await admin.PostAsync($"/api/admin/rankings/{PlayWorld.CampaignId}/rebuild", null);
        var report = await rebuild.Content.ReadFromJsonAsync<RebuildReport>();
        var reconcile = await admin.GetFromJsonAsync<ReconcileReport>($"/api/admin/rankings/{PlayWorld.CampaignId}/reconcile");
        using var missing = await admin.PostAsync("/api/admin/rankings/nope/rebuild", null);

        Assert.Equal((4L, 4L), (report!.Rounds, report.Participants));
        Assert.True(reconcile!.Matches, string.Join("; ", reconcile.Differences));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task QuestionAnalyticsShowRightRatesAndTheMostChosenWrongOption()
    {
        await PlayAsync(0, 5);
        await PlayAsync(0, 5);
        await PlayAsync(5, 5);
        using var admin = _app.CreateAdminClient();

        // Projections are eventual: a publish left to the catch-up from the store (a loaded broker) takes up to two of its 5 s intervals.
        var stats = await Eventually.ReadAsync(() => admin.GetFromJsonAsync<List<QuestionStats>>("/api/admin/questions/stats"),
            s => s?.Sum(q => q.Answered) == 15, TimeSpan.FromSeconds(30));

        Assert.NotNull(stats);
        Assert.Equal(15, stats.Sum(s => s.Answered));
        Assert.Equal(5, stats.Sum(s => s.Correct));
        Assert.Equal(stats.OrderBy(s => s.RightRate).Select(s => s.QuestionId), stats.Select(s => s.QuestionId));
        Assert.All(stats.Where(s => s.Correct < s.Answered), s => Assert.NotNull(s.MostChosenWrong));
    }

    [Fact]
    public async Task FlaggedRoundsAreListedForAdmins()
    {
        using var app = new QuizApplication();
        await PlayWorld.SeedAsync(app, PlayWorld.Campaign(s => s with { MinAnswerMs = 500 }));
        await Staff.PlayRoundAsync(app, PlayWorld.County); // answers in 0 ms on the fake clock
        using var admin = app.CreateAdminClient();

        var flagged = await admin.GetFromJsonAsync<List<PlayAdminApi.FlaggedRound>>($"/api/admin/rounds/flagged?campaignId={PlayWorld.CampaignId}");

        var round = Assert.Single(flagged!);
        Assert.Contains("answered in 0 ms", round.Flagged);
        Assert.Equal("测试用户", round.Nickname);
    }
}
