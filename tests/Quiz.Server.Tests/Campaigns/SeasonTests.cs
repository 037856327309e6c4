using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Play;
using Quiz.Server.Questions;
using Quiz.Server.Rankings;
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
            Assert.True((await App.Service<UnitDirectory>().ImportAsync([(regions, "regions.csv"), (organisations, "organisations.csv")])).Ok);
            File.Delete(regions);
            File.Delete(organisations);
            var report = await App.Service<QuestionImporter>().ImportAsync(QuestionImporter.FindFiles(folder), dryRun: false);
            Assert.True(report.Ok, string.Join("; ", report.Errors.Take(5)));
            _bank = (await App.Service<QuestionBank>().ListAsync()).ToDictionary(q => q.Question.Id, q => q.Question);

            var (campaign, errors) = CampaignCatalog.Parse(File.ReadAllText(Path.Combine(folder, "campaigns", campaignId + ".json")));
            Assert.True(campaign is not null, string.Join("; ", errors));
            Campaign = campaign;
            await App.Service<CampaignCatalog>().SaveAsync(campaign);
            await App.Service<IRankingEngine>().SetUnitBasesAsync(campaign.Id, App.Service<RankingStore>().Bases(campaign.Id));
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
        public async Task<(RoundView Round, List<AnswerResult> Answers, RoundResult Result)> PlayAsync(int right, string? scene = null)
        {
            var round = await StartAsync(scene);
            var answers = new List<AnswerResult>();
            foreach (var question in round.Questions)
            {
                App.Clock.Advance(TimeSpan.FromSeconds(2));
                var key = KeyOf(question);
                var wrong = new[] { Enumerable.Range(0, question.Options.Count).First(i => !key.Contains(i)) };
                answers.Add(await AnswerAsync(round.RoundId, question.Position, question.Position < right ? key : wrong));
            }
            return (round, answers, await FinishAsync(round.RoundId));
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
    public async Task In2025EachRoleDrawsFromItsOwnBankAndEveryRoundAddsToTheTotal()
    {
        // 11 June 2025, 10:00 CST. The ladder and flowers are not in the model yet: a right answer is a point, every round adds up.
        await using var season = await Season.StartAsync("2025-june", new DateTimeOffset(2025, 6, 11, 10, 0, 0, Cst));
        Assert.StartsWith("scene-required:", await ErrorOf(() => season.StartAsync()));

        var (round, _, first) = await season.PlayAsync(5, "student");
        Assert.All(round.Questions, q => Assert.True(season.TracksOf(q).Overlaps(["student", "general"]), q.QuestionId));
        var (_, _, second) = await season.PlayAsync(3, "student");
        Assert.Equal((5, 3), (first.Score, second.Score));
        season.App.Clock.Advance(TimeSpan.FromDays(1));
        await season.PlayAsync(4, "elderly-woman");

        Assert.Equal(12, (await season.StandingAsync("main")).Score);
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
