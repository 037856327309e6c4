using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;
using Quiz.Server.Play;
using Quiz.Server.Questions;
using Quiz.Server.Rankings;
using Quiz.Server.Rewards;
using Quiz.Server.Tests.Infrastructure;
using Quiz.Server.Tests.Play;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Campaigns;

/// <summary>
/// The sample campaigns in question-bank/campaigns, played through the server on the real question
/// bank, each checked against the rule its season published (DOMAIN.md's season table).
/// </summary>
public sealed class SeasonTests
{
    private static readonly TimeSpan Cst = TimeSpan.FromHours(8);

    /// <summary>A server on the sample campaign, its clock at <paramref name="now"/>, with one player connected.</summary>
    private sealed class Season : IAsyncDisposable
    {
        public QuizApplication App { get; }
        public Campaign Campaign { get; private set; } = null!;
        public PlayWorld.Player Player { get; private set; } = null!;
        private Dictionary<string, Question> _bank = null!;

        private Season(DateTimeOffset now) => App = new QuizApplication(kestrel: true, now);

        public static async Task<Season> StartAsync(string campaignId, DateTimeOffset now)
        {
            var season = new Season(now);
            await season.SeedAsync(campaignId);
            return season;
        }

        private async Task SeedAsync(string campaignId)
        {
            var folder = Questions.QuestionBankContentTests.BankFolder;
            var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes(PlayWorld.Regions), ".csv");
            var organisations = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes(PlayWorld.Organisations), ".csv");
            Assert.True((await App.Service<UnitImport>().ImportAsync([(regions, "regions.csv"), (organisations, "organisations.csv")])).Ok);
            File.Delete(regions);
            File.Delete(organisations);
            var report = await App.Service<QuestionImporter>().ImportAsync(QuestionImporter.FindFiles(folder), dryRun: false);
            Assert.True(report.Ok, string.Join("; ", report.Errors.Take(5)));
            _bank = (await App.Service<QuestionBank>().ListAsync()).ToDictionary(q => q.Question.Id, q => q.Question);

            var (campaign, errors) = CampaignCatalog.Parse(File.ReadAllText(Path.Combine(folder, "campaigns", campaignId + ".json")));
            Assert.True(campaign is not null, string.Join("; ", errors));
            Campaign = campaign;
            await App.Service<CampaignCatalog>().SaveAsync(campaign);
            Player = await PlayWorld.ConnectPlayerAsync(App);
        }

        public Task<RoundView> StartAsync(string? scene = null) =>
            Player.Connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(Campaign.Id, scene));

        public Task<AnswerResult> AnswerAsync(string roundId, int position, int[] choices) =>
            Player.Connection.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(roundId, position, choices));

        public Task<RoundResult> FinishAsync(string roundId) => Player.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(roundId));

        /// <summary>The right choices as shown (the test knows what players don't).</summary>
        public int[] KeyOf(Quiz.Server.Play.QuestionView shown)
        {
            var question = _bank[shown.QuestionId];
            return question.AnswerIndexes.Select(i => shown.Options.ToList().IndexOf(question.Options[i])).Order().ToArray();
        }

        public HashSet<string> TracksOf(Quiz.Server.Play.QuestionView shown) => [.. _bank[shown.QuestionId].Tracks];

        /// <summary>Plays a round to exactly <paramref name="right"/> right answers, 2 s an answer.</summary>
        public Task<(RoundView Round, List<AnswerResult> Answers, RoundResult Result)> PlayAsync(int right, string? scene = null) =>
            PlayAsync([.. Enumerable.Range(0, 50).Select(i => i < right)], scene); // 50: the most questions a round may have

        /// <summary>Plays a round answering each question right or wrong as <paramref name="rightInOrder"/> says, 2 s an answer.</summary>
        public async Task<(RoundView Round, List<AnswerResult> Answers, RoundResult Result)> PlayAsync(bool[] rightInOrder, string? scene,
            HubConnection? connection = null)
        {
            connection ??= Player.Connection;
            var round = await connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(Campaign.Id, scene));
            var answers = new List<AnswerResult>();
            foreach (var question in round.Questions)
            {
                App.Clock.Advance(TimeSpan.FromSeconds(2));
                var key = KeyOf(question);
                var wrong = new[] { Enumerable.Range(0, question.Options.Count).First(i => !key.Contains(i)) };
                answers.Add(await connection.InvokeAsync<AnswerResult>("Answer",
                    new AnswerRequest(round.RoundId, question.Position, rightInOrder[question.Position] ? key : wrong)));
            }
            return (round, answers, await connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId)));
        }

        /// <summary>An HTTP client with a participant's token.</summary>
        public HttpClient ClientOf(string token)
        {
            var client = App.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            return client;
        }

        /// <summary>The player's standing on a stage's national board.</summary>
        public async Task<RankParts> StandingAsync(string stage) =>
            (await App.Service<IRankingEngine>().GetMemberAsync(BoardKey.National(Campaign.Id, stage), Player.Id))!.Parts;

        public async ValueTask DisposeAsync()
        {
            await Player.DisposeAsync();
            App.Dispose();
        }
    }

    private static async Task<string> ErrorOf(Func<Task> call) => PlayHubTests.PlayErrorText((await Assert.ThrowsAsync<HubException>(call)).Message);

    [Fact]
    public async Task In2024TheBestOfEachSceneCountsAndTheFourScenesAddUp()
    {
        // 12 June 2024, 10:00 CST: the season opens.
        await using var season = await Season.StartAsync("2024-june", new DateTimeOffset(2024, 6, 12, 10, 0, 0, Cst));
        var clock = season.App.Clock;

        // One scene a day: 5 in campus, 4 in workplace, 5 in city, 3 in countryside.
        var days = new (string Scene, int Right)[] { ("campus", 5), ("workplace", 4), ("city", 5), ("countryside", 3) };
        RoundResult last = null!;
        foreach (var (scene, right) in days)
        {
            var (round, answers, result) = await season.PlayAsync(right, scene);
            Assert.Equal(scene, round.Scene);
            // Scored stage: no key or explanation while the round is on; all of them in the review after it.
            Assert.False(round.ShowAnswers);
            Assert.All(answers, a => Assert.True(a.Key is null && a.Explanation is null));
            Assert.All(result.Review, r => Assert.Equal(season.KeyOf(round.Questions[r.Position]), r.Key.ToArray()));
            Assert.All(result.Review, r => Assert.False(string.IsNullOrEmpty(r.Explanation)));
            Assert.Equal((right, 5), (result.Score, result.MaxScore));
            last = result;
            clock.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(10));
        }
        Assert.Equal(17, (await season.StandingAsync("main")).Score);
        Assert.Equal(1, last.NationalRank);

        // 16 June: a better retry in workplace replaces that scene's 4 alone; a worse one in city changes nothing.
        await season.PlayAsync(5, "workplace");
        Assert.StartsWith("scene-taken:", await ErrorOf(() => season.StartAsync("city")));
        Assert.Equal(18, (await season.StandingAsync("main")).Score);
        clock.Advance(TimeSpan.FromDays(1));
        await season.PlayAsync(2, "city");
        Assert.Equal(18, (await season.StandingAsync("main")).Score);

        // The boards rebuilt from the store agree: each round's scene is read back with it.
        var (rebuild, reconcile) = await season.App.Service<RankingService>().RebuildAsync(season.Campaign.Id);
        Assert.Equal(6, rebuild.Rounds);
        Assert.True(reconcile.Matches, string.Join("; ", reconcile.Differences));
        Assert.Equal(18, (await season.StandingAsync("main")).Score);

        // 18 June, 19:59: a round started before the 20:00 close still finishes after it; then starts are refused.
        clock.SetUtcNow(new DateTimeOffset(2024, 6, 18, 19, 59, 0, Cst));
        var lateRound = await season.StartAsync("countryside");
        clock.Advance(TimeSpan.FromMinutes(1.5));
        await season.AnswerAsync(lateRound.RoundId, 0, season.KeyOf(lateRound.Questions[0]));
        Assert.Equal(1, (await season.FinishAsync(lateRound.RoundId)).Score);
        Assert.Equal("stage-closed: the campaign has ended", await ErrorOf(() => season.StartAsync("countryside")));
    }

    [Fact]
    public async Task In2025RolesClimbTheirLaddersAndFlowersPointsAndInvitationsAddUpToPrizesWithoutAPersonalBoard()
    {
        // 11 June 2025, 10:00 CST. The player registered with a work unit: a completed profile.
        await using var season = await Season.StartAsync("2025-june", new DateTimeOffset(2025, 6, 11, 10, 0, 0, Cst));
        var clock = season.App.Clock;
        using var player = season.ClientOf(season.Player.Token);
        Assert.StartsWith("scene-required:", await ErrorOf(() => season.StartAsync()));

        // The student role: right, right, wrong, right, wrong climbs 1, 2, drops to 1, climbs to 2, drops to 1.
        // 3 right of 5: 3 flowers. A scored stage: no key or explanation until the round is over.
        var (round, answers, first) = await season.PlayAsync([true, true, false, true, false], "student");
        Assert.All(round.Questions, q => Assert.True(season.TracksOf(q).Overlaps(["student", "general"]), q.QuestionId));
        Assert.False(round.ShowAnswers);
        Assert.All(answers, a => Assert.True(a.Key is null && a.Explanation is null));
        Assert.All(first.Review, r => Assert.Equal(season.KeyOf(round.Questions[r.Position]), r.Key.ToArray()));
        Assert.Equal((3, new LadderState("student", 1, false)), (first.Score, first.Ladder));

        // All 5 right: 10 flowers, the role climbs 5 steps and is rescued.
        var (_, _, perfect) = await season.PlayAsync(5, "student");
        Assert.Equal((10, 10, new LadderState("student", 6, true)), (perfect.Score, perfect.MaxScore, perfect.Ladder));
        // No personal ranking: the reply carries no rank, and there is no personal board to see.
        Assert.Equal((null, false), (perfect.NationalRank, perfect.RankPending));
        Assert.Equal(HttpStatusCode.NotFound, (await player.GetAsync("/api/rankings/2025-june/main/top")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await player.GetAsync("/api/rankings/2025-june/main/me")).StatusCode);

        // Any role any time: another role the same day is no scene-taken. Two right then three wrong: the foot of the ladder.
        var (_, _, elderly) = await season.PlayAsync(2, "elderly-woman");
        Assert.Equal((2, new LadderState("elderly-woman", 0, false)), (elderly.Score, elderly.Ladder));
        Assert.StartsWith("no-attempts-left:", await ErrorOf(() => season.StartAsync("middle-aged-man")));

        // A repeated Finish, served from the store once the round has left memory, says the same and moves nothing.
        clock.Advance(TimeSpan.FromMinutes(1));
        var again = await season.FinishAsync(first.RoundId);
        Assert.Equal((3, new LadderState("student", 1, false), (long?)null), (again.Score, again.Ladder, again.NationalRank));

        // An invited friend registers through the player's link and takes part: +2 points and one more attempt today, once,
        // however many rounds the friend plays and however often their Finish is repeated.
        var invitation = await player.GetFromJsonAsync<RewardsApi.InvitationView>("/api/participants/me/invitation");
        Assert.Equal($"/?invite={invitation!.Code}", invitation.Link);
        Assert.Equal(invitation.Code, (await player.GetFromJsonAsync<RewardsApi.InvitationView>("/api/participants/me/invitation"))!.Code);
        using (var anonymous = season.App.CreateClient())
        {
            using var refused = await anonymous.PostAsJsonAsync("/api/participants/register", new
            {
                nickname = "朋友", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "general", inviteCode = "NOSUCH22",
            });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("inviteCode", await refused.Content.ReadAsStringAsync());
        }
        using var registering = season.App.CreateClient();
        var friend = await PlayWorld.RegisterAsync(registering, season.App.Codes, new
        {
            nickname = "朋友", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "general", inviteCode = invitation.Code.ToLowerInvariant(),
        });
        await using var friendConnection = PlayWorld.Connection(season.App, friend.Token);
        await friendConnection.StartAsync();
        var (_, _, friendFirst) = await season.PlayAsync([true, false, true, false, true], "middle-aged-woman", friendConnection);
        Assert.Equal(new LadderState("middle-aged-woman", 1, false), friendFirst.Ladder);
        await friendConnection.InvokeAsync<RoundResult>("Finish", new FinishRequest(friendFirst.RoundId));
        await season.PlayAsync([true, true, true, true, true], "student", friendConnection);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(friendFirst.Ladder, (await friendConnection.InvokeAsync<RoundResult>("Finish", new FinishRequest(friendFirst.RoundId))).Ladder);

        var (extra, _, fourth) = await season.PlayAsync(4, "middle-aged-man");
        Assert.Equal(0, extra.AttemptsLeft);
        Assert.Equal((4, new LadderState("middle-aged-man", 3, false)), (fourth.Score, fourth.Ladder));
        Assert.StartsWith("no-attempts-left:", await ErrorOf(() => season.StartAsync("middle-aged-man")));

        // The day's learning task: +10 once a day.
        var item = await player.GetFromJsonAsync<RewardsApi.LearningView>("/api/campaigns/2025-june/main/learning");
        Assert.Equal((new DateOnly(2025, 6, 11), false, 10), (item!.Day, item.Done, item.Points));
        Assert.False(string.IsNullOrWhiteSpace(item.Text));
        Assert.Equal(10, (await LearnAsync(player)).PointsAdded);
        Assert.Equal(0, (await LearnAsync(player)).PointsAdded);

        // Totals: flowers 3 + 10 + 2 + 4; points 1 (profile) + 2 (one friend) + 10 (learning); the first prize tier only.
        var totals = await player.GetFromJsonAsync<RewardStore.Totals>("/api/campaigns/2025-june/main/me");
        Assert.Equal((19, 4), (totals!.Score, totals.Rounds));
        Assert.Equal(new RewardStore.PointsView(1, 2, 10, 13), totals.Points);
        Assert.Equal((1, true), (totals.InvitedFriends, totals.LearnedToday));
        Assert.Equal(["elderly-woman 0 False", "middle-aged-man 3 False", "middle-aged-woman 0 False", "student 6 True"],
            totals.Ladder.Select(l => $"{l.Scene} {l.Step} {l.Rescued}"));
        Assert.Equal(["certificate"], totals.Prizes.Where(p => p.Reached).Select(p => p.Id));
        // The home screen's figures: the best round (10 flowers), and no attempt left of today's 3 + 1 (the friend's).
        Assert.Equal(((int?)10, (int?)0), (totals.BestRound, totals.AttemptsLeftToday));

        // The next day: three attempts again (the friend's extra attempt was for yesterday), and the learning task once more.
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(2, (await season.StartAsync("student")).AttemptsLeft);
        Assert.Equal(10, (await LearnAsync(player)).PointsAdded);
        totals = await player.GetFromJsonAsync<RewardStore.Totals>("/api/campaigns/2025-june/main/me");
        Assert.Equal(new RewardStore.PointsView(1, 2, 20, 23), totals!.Points);
        Assert.Equal(2, totals.AttemptsLeftToday); // the round in play has used its attempt

        // The friend registered without a work unit: no profile point; they invited no one. Flowers 3 + 10.
        using var friendClient = season.ClientOf(friend.Token);
        var friendTotals = await friendClient.GetFromJsonAsync<RewardStore.Totals>("/api/campaigns/2025-june/main/me");
        Assert.Equal((13, new RewardStore.PointsView(0, 0, 0, 0)), (friendTotals!.Score, friendTotals.Points));
        Assert.Equal(((int?)10, (int?)3), (friendTotals.BestRound, friendTotals.AttemptsLeftToday)); // yesterday's two rounds; today untouched
    }

    [Fact]
    public async Task In2025APersonRegistersWithTheProvinceAloneAndNoTrackAndCountsOnTheProvincesBoardsOnly()
    {
        await using var season = await Season.StartAsync("2025-june", new DateTimeOffset(2025, 6, 11, 10, 0, 0, Cst));
        var ranking = season.App.Service<UnitStandings>();
        using var registering = season.App.CreateClient();

        // The 2025 form: nickname, mobile, the province, no county and no track.
        var registered = await PlayWorld.RegisterAsync(registering, season.App.Codes, new
        {
            nickname = "省级用户", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.Province, campaignId = "2025-june",
        });
        Assert.Equal([PlayWorld.Province], registered.Participant.Region.Select(r => r.Code));
        Assert.Equal(ParticipantRegistry.DefaultTrack, registered.Participant.Track);
        Assert.Null(registered.Participant.Organisation);

        await using var connection = PlayWorld.Connection(season.App, registered.Token);
        await connection.StartAsync();
        var (round, _, result) = await season.PlayAsync([true, true, true, false, false], "student", connection);
        Assert.All(round.Questions, q => Assert.True(season.TracksOf(q).Overlaps(["student", "general"]), q.QuestionId));
        Assert.Equal((3, new LadderState("student", 1, false)), (result.Score, result.Ladder));

        // Counted on the province's boards (participants, rounds, the rate over its residents); no city or county under it gains anyone.
        await Staff.FlushRankingsAsync(season.App);
        var province = await ranking.GetUnitAsync(new UnitBoardKey("2025-june", UnitLevel.Province, UnitMetric.Participants), PlayWorld.Province);
        Assert.NotNull(province);
        Assert.Equal((1, 1), (province.Participants, province.Rounds));
        Assert.True(province.ParticipationRate > 0);
        var city = await ranking.GetUnitAsync(new UnitBoardKey("2025-june", UnitLevel.City, UnitMetric.Participants), PlayWorld.City);
        var county = await ranking.GetUnitAsync(new UnitBoardKey("2025-june", UnitLevel.County, UnitMetric.Participants), PlayWorld.County);
        Assert.Equal(0, city?.Participants ?? 0);
        Assert.Equal(0, county?.Participants ?? 0);
    }

    private static async Task<RewardsApi.Learned> LearnAsync(HttpClient player)
    {
        using var response = await player.PostAsync("/api/campaigns/2025-june/main/learning", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RewardsApi.Learned>())!;
    }

    [Fact]
    public async Task In2023TheMainStageAddsUpEachDaysRound()
    {
        // 12 June 2023, 09:59 CST: the warm-up opens at 10:00.
        await using var season = await Season.StartAsync("2023-june", new DateTimeOffset(2023, 6, 12, 9, 59, 0, Cst));
        var clock = season.App.Clock;
        Assert.Equal("stage-closed: 热身赛 opens at 2023-06-12 10:00", await ErrorOf(() => season.StartAsync()));

        clock.Advance(TimeSpan.FromMinutes(1));
        var (warmUp, warmUpAnswers, _) = await season.PlayAsync(3);
        Assert.Equal("warm-up", warmUp.StageId);
        Assert.All(warmUpAnswers, a => Assert.NotNull(a.Key)); // the warm-up is practice: keys after each answer
        Assert.StartsWith("no-attempts-left:", await ErrorOf(() => season.StartAsync())); // one round a day

        // 15 June 10:00: the main stage, a 3-minute round a day, 10 points a question; the days add up.
        clock.SetUtcNow(new DateTimeOffset(2023, 6, 15, 10, 0, 0, Cst));
        var (first, _, day1) = await season.PlayAsync(7);
        Assert.Equal(("main", 10, TimeSpan.FromMinutes(3)), (first.StageId, first.Questions.Count, first.Deadline - first.StartedAt));
        Assert.Equal(70, day1.Score);
        Assert.StartsWith("no-attempts-left:", await ErrorOf(() => season.StartAsync()));
        clock.Advance(TimeSpan.FromDays(1));
        var (_, _, day2) = await season.PlayAsync(9);
        Assert.Equal(90, day2.Score);

        Assert.Equal(160, (await season.StandingAsync("main")).Score);
        Assert.Equal(3, (await season.StandingAsync("warm-up")).Score);
    }
}
