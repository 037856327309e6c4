using Quiz.Server.Campaigns;
using Quiz.Server.Play;
using Quiz.Server.Questions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>The rules of play without a server: scoring, lateness, flags and the end of a round.</summary>
public sealed class PlayRulesTests
{
    private static readonly Stage Stage = PlayWorld.Campaign().Stages[0];

    private static DrawnQuestion Drawn(string type, string answer, int[] order, int options = 4)
    {
        var question = new Question("Q-1", type, "题干", type == QuestionTypes.TrueFalse ? ["正确", "错误"] : Enumerable.Range(0, options).Select(i => $"选项{i}").ToList(),
            answer, "解释说明为何如此，以及为何另一选项不对。", "《防范和处置非法集资条例》第二十五条", ["general"], "law", 1, []);
        return new DrawnQuestion(new StoredQuestion(question, 1), order);
    }

    [Fact]
    public void ARightAnswerInTheShownOrderScoresTheTypesPointsAndCarriesTheShownKey()
    {
        var question = Drawn(QuestionTypes.Single, "C", [2, 0, 1, 3]); // bank C is shown first
        var right = PlayRules.Evaluate(Stage, question, 0, [0], elapsedMs: 5_000);
        var wrong = PlayRules.Evaluate(Stage, question, 0, [1], elapsedMs: 5_000);

        Assert.Equal(("C", true, Stage.Points.For(QuestionTypes.Single)), (right.BankLetters, right.Correct, right.Points));
        Assert.Equal(("A", false, 0), (wrong.BankLetters, wrong.Correct, wrong.Points));
        Assert.Equal(Stage.ShowAnswers ? [0] : null, right.Result.Key);
    }

    [Fact]
    public void AnAnswerPastThePerQuestionTimeIsLateAndScoresNothing()
    {
        var timed = Stage with { QuestionSeconds = 10 };
        var question = Drawn(QuestionTypes.Single, "A", [0, 1, 2, 3]);
        var late = PlayRules.Evaluate(timed, question, 0, [0], elapsedMs: 10_001);
        var inTime = PlayRules.Evaluate(timed, question, 0, [0], elapsedMs: 10_000);
        Assert.Equal((true, false, 0), (late.Late, late.Correct, late.Points));
        Assert.Equal((false, true), (inTime.Late, inTime.Correct));
    }

    [Fact]
    public void ChoicesMustBeDistinctPositionsAndOneForASingleChoiceQuestion()
    {
        var single = Drawn(QuestionTypes.Single, "A", [0, 1, 2, 3]);
        var multiple = Drawn(QuestionTypes.Multiple, "AB", [0, 1, 2, 3]);
        Assert.NotNull(PlayRules.InvalidChoices(single, []));
        Assert.NotNull(PlayRules.InvalidChoices(single, [0, 1]));
        Assert.NotNull(PlayRules.InvalidChoices(single, [4]));
        Assert.NotNull(PlayRules.InvalidChoices(multiple, [1, 1]));
        Assert.Null(PlayRules.InvalidChoices(multiple, [1, 0]));
        Assert.Null(PlayRules.InvalidChoices(single, [3]));
    }

    [Fact]
    public void AnAnswerFasterThanTheStageAllowsFlagsTheRound()
    {
        var strict = Stage with { MinAnswerMs = 800 };
        Assert.Equal("question 3 answered in 120 ms (minimum 800 ms)", PlayRules.Flag(strict, 2, 120));
        Assert.Null(PlayRules.Flag(strict, 2, 800));
    }

    [Fact]
    public void ARoundEndsAtItsDeadlineAtTheLatestAndUnansweredQuestionsAreStoredAsBlank()
    {
        var deadline = new DateTimeOffset(2024, 6, 12, 2, 2, 0, TimeSpan.Zero);
        Assert.Equal(deadline, PlayRules.FinishedAt(deadline.AddSeconds(3), deadline));
        Assert.Equal(deadline.AddSeconds(-3), PlayRules.FinishedAt(deadline.AddSeconds(-3), deadline));

        var questions = new[] { Drawn(QuestionTypes.Single, "A", [0, 1, 2, 3]), Drawn(QuestionTypes.TrueFalse, "B", [0, 1]) };
        var answered = PlayRules.Evaluate(Stage, questions[0], 0, [0], 3_000);
        var rows = PlayRules.Rows(questions, [answered, null]);
        Assert.Equal(("A", true, answered.Points), (rows[0].Chosen, rows[0].Correct, rows[0].Points));
        Assert.Equal(("", false, 0, (int?)null), (rows[1].Chosen, rows[1].Correct, rows[1].Points, rows[1].ElapsedMs));
    }

    // 2024: 12 June 10:00 – 18 June 20:00, China Standard Time.
    private static readonly Campaign Season2024 = PlayWorld.Campaign(s => s with
    {
        StartDay = new DateOnly(2024, 6, 12), EndDay = new DateOnly(2024, 6, 18), OpensAt = "10:00", ClosesAt = "20:00",
    });

    private static DateTimeOffset Cst(int day, int hour, int minute = 0, int second = 0) =>
        new(2024, 6, day, hour, minute, second, TimeSpan.FromHours(8));

    [Fact]
    public void AStageOpensAtItsOpeningTimeOnTheFirstDayAndClosesAtItsClosingTimeOnTheLast()
    {
        Assert.Equal((null, "正式赛 opens at 2024-06-12 10:00"), Opened(Cst(12, 9, 59, 59)));
        Assert.Equal("main", PlayRules.OpenStage(Season2024, Cst(12, 10)).Stage?.Id);
        Assert.Equal("main", PlayRules.OpenStage(Season2024, Cst(15, 3)).Stage?.Id); // no break overnight between the ends
        Assert.Equal("main", PlayRules.OpenStage(Season2024, Cst(18, 19, 59, 59)).Stage?.Id);
        Assert.Equal((null, "the campaign has ended"), Opened(Cst(18, 20)));
        Assert.Equal((null, "the campaign has ended"), Opened(Cst(18, 23)));
    }

    private static (string?, string?) Opened(DateTimeOffset now) => PlayRules.OpenStage(Season2024, now) is var (stage, why) ? (stage?.Id, why) : default;

    [Fact]
    public void AClosingTimeOf2400IsTheMidnightAfterTheLastDayAndNoTimesMeanWholeDays()
    {
        var stage = Season2024.Stages[0] with { OpensAt = null, ClosesAt = "24:00" };
        var offset = TimeSpan.FromHours(8);
        Assert.Equal((Cst(12, 0), Cst(19, 0)), stage.Window(offset));
        Assert.True(stage.IsOpenAt(Cst(18, 23, 59, 59), offset));
        Assert.False(stage.IsOpenAt(Cst(19, 0), offset));
        Assert.Equal(stage.Window(offset), (stage with { ClosesAt = null }).Window(offset));
    }

    [Theory]
    [InlineData("9:00", null, "opensAt")]
    [InlineData("10:60", null, "opensAt")]
    [InlineData(null, "24:01", "closesAt")]
    [InlineData(null, "25:00", "closesAt")]
    [InlineData("10:00", "10:00", "closesAt: not after opensAt")]
    public void ClockTimesAreValidatedWithTheCampaign(string? opensAt, string? closesAt, string error)
    {
        var oneDay = PlayWorld.Campaign(s => s with { EndDay = s.StartDay, OpensAt = opensAt, ClosesAt = closesAt });
        Assert.Contains(oneDay.Validate(), e => e.StartsWith("stages[main]." + error, StringComparison.Ordinal));
        Assert.Empty(Season2024.Validate());
    }

    [Fact]
    public void AStageWithScenesNeedsOneOfThemAndAStageWithoutScenesTakesNone()
    {
        var withScenes = Stage with { Scenes = [new Scene("campus", "校园", ["student"]), new Scene("city", "城市", ["city", "general"])] };
        Assert.Equal("city", PlayRules.SceneFor(withScenes, "city").Scene?.Id);
        Assert.Equal(PlayErrors.SceneRequired, PlayRules.SceneFor(withScenes, null).Code);
        Assert.Equal(PlayErrors.UnknownScene, PlayRules.SceneFor(withScenes, "office").Code);
        Assert.Equal((null, null, null), PlayRules.SceneFor(Stage, null));
        Assert.Equal(PlayErrors.UnknownScene, PlayRules.SceneFor(Stage, "city").Code);
        Assert.Equal(["city", "general"], withScenes.PoolFor("elderly", withScenes.Scene("city")));
    }

    [Fact]
    public void ScenesAreValidatedWithTheCampaign()
    {
        var errors = PlayWorld.Campaign(s => s with
        {
            Aggregation = Aggregation.BestPerSceneSummed,
            Scenes = [new Scene("campus", "校园", ["student"]), new Scene("campus", "又一个", ["pilots"]), new Scene("Bad Id", "x", ["general"])],
        }).Validate();
        Assert.Contains("stages[main].scenes: id 'campus' is used twice", errors);
        Assert.Contains(errors, e => e.StartsWith("stages[main].scenes[campus].pool", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("stages[main].scenes: each id", StringComparison.Ordinal));
        Assert.Contains("stages[main].aggregation: best-per-scene-summed needs scenes",
            PlayWorld.Campaign(s => s with { Aggregation = Aggregation.BestPerSceneSummed }).Validate());
    }

    [Fact]
    public void ALadderClimbsAStepForEachRightAnswerDropsOneForEachWrongNeverBelowTheFootAndAPerfectRoundRescues()
    {
        Assert.Equal((1, false), PlayRules.Climb(0, false, [true, true, false, true, false]));
        Assert.Equal((0, false), PlayRules.Climb(0, false, [false, false, true, false, false]));
        Assert.Equal((6, true), PlayRules.Climb(1, false, [true, true, true, true, true]));
        // A rescue is for good: a worse round later drops the step but keeps it.
        Assert.Equal((1, true), PlayRules.Climb(6, true, [false, false, false, false, false]));
    }

    [Fact]
    public void APerfectRoundScoresThePerfectRoundScoreAndAnyOtherTheSumOfItsPoints()
    {
        var flowers = Stage with { PerfectRoundScore = 10 };
        Assert.Equal((10, 4, 0), (flowers.RoundScore(5, 5, 5), flowers.RoundScore(4, 4, 5), flowers.RoundScore(0, 0, 5)));
        Assert.Equal(10, flowers.MaxScore(Enumerable.Repeat(QuestionTypes.Single, 5)));
        Assert.Equal(5, Stage.RoundScore(5, 5, 5));
    }

    [Fact]
    public void TheRulesOf2025AreCheckedWhenACampaignIsSaved()
    {
        var errors = PlayWorld.Campaign(s => s with
        {
            Ladder = true, PerfectRoundScore = -1, BonusPoints = new BonusPoints(LearningTask: 10), InvitationAttempts = 11,
            Prizes = [new PrizeTier("a", "一等", 10), new PrizeTier("a", "二等", 5)],
        }).Validate();
        Assert.Contains("stages[main].ladder: needs scenes (each scene is a ladder)", errors);
        Assert.Contains(errors, e => e.StartsWith("stages[main].perfectRoundScore:", StringComparison.Ordinal));
        Assert.Contains("stages[main].bonusPoints.learningTask: needs learning items", errors);
        Assert.Contains("stages[main].invitationAttempts: 0 to 10", errors);
        Assert.Contains("stages[main].prizes: id 'a' is used twice", errors);
    }
}
