using Quiz.Server.Play;
using Quiz.Server.Questions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

public sealed class QuestionDrawTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();
    private QuestionDraw _draw = null!;

    public async Task InitializeAsync()
    {
        await PlayWorld.SeedAsync(_app);
        _draw = _app.Service<QuestionDraw>();
    }

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    private static Quiz.Server.Campaigns.Stage Stage => PlayWorld.Campaign().Stages[0];

    [Fact]
    public async Task ARoundFollowsTheStagesDifficultyCountsWithoutRepeats()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var round = await _draw.DrawAsync(Stage, "elderly", new HashSet<string>(), new Random(seed));
            Assert.Equal(5, round.Select(q => q.Question.Id).Distinct().Count());
            Assert.Equal([1, 1, 2, 2, 3], round.Select(q => q.Question.Difficulty).Order());
        }
    }

    [Fact]
    public async Task ATrackDrawsOnlyFromItsPool()
    {
        var seen = new HashSet<string>();
        for (var seed = 0; seed < 30; seed++)
            foreach (var q in await _draw.DrawAsync(Stage, "student", new HashSet<string>(), new Random(seed)))
                seen.UnionWith(q.Question.Tracks);
        Assert.Equal(["general", "student"], seen.Order());
    }

    [Fact]
    public async Task EarlierQuestionsAreAvoidedWhileThePoolAllows()
    {
        var stage = Stage with { Difficulty = new Dictionary<string, int>(), Pools = new Dictionary<string, string[]> { ["elderly"] = ["elderly"] } };
        var seen = new HashSet<string>();
        var random = new Random(7);
        for (var round = 0; round < 2; round++) // 12 elderly questions: two rounds of 5 never repeat
        {
            var drawn = await _draw.DrawAsync(stage, "elderly", seen, random);
            Assert.DoesNotContain(drawn, q => seen.Contains(q.Question.Id));
            seen.UnionWith(drawn.Select(q => q.Question.Id));
        }
        var third = await _draw.DrawAsync(stage, "elderly", seen, random); // only 2 unseen left
        Assert.Equal(2, third.Count(q => !seen.Contains(q.Question.Id)));
    }

    [Fact]
    public async Task ARoundSpreadsOverCategories()
    {
        var stage = Stage with { Difficulty = new Dictionary<string, int>(), QuestionsPerRound = 4 };
        for (var seed = 0; seed < 20; seed++)
        {
            var round = await _draw.DrawAsync(stage, "elderly", new HashSet<string>(), new Random(seed));
            Assert.Equal(4, round.Select(q => q.Question.Category).Distinct().Count());
        }
    }

    [Fact]
    public async Task OptionsAreShuffledPerPlayerAndTheKeyFollowsThem()
    {
        var orders = new HashSet<string>();
        for (var seed = 0; seed < 20; seed++)
            foreach (var q in await _draw.DrawAsync(Stage, "general", new HashSet<string>(), new Random(seed)))
            {
                if (q.Question.Type == QuestionTypes.TrueFalse) Assert.Equal([0, 1], q.Order);
                else orders.Add(string.Join(",", q.Order));
                var shownKey = q.ShownKey;
                Assert.Equal(q.Question.Answer, q.ToBankLetters(shownKey));
                Assert.All(shownKey, k => Assert.Contains((char)('A' + q.Order[k]), q.Question.Answer));
            }
        Assert.True(orders.Count > 5, "options come in many orders");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheDirectDrawGivesEachQuestionTheChanceTheScanGivesIt(bool spread)
    {
        // Four categories of 12, 6, 3 and 1 questions, three of the first seen: a round of three
        // takes the categories by their unseen questions (9, 6, 3, 1), not each alike.
        var pool = new[] { ("a", 12), ("b", 6), ("c", 3), ("d", 1) }
            .SelectMany(c => Enumerable.Range(0, c.Item2).Select(i => new StoredQuestion(
                new Question($"{c.Item1}{i}", QuestionTypes.Single, "?", ["x", "y"], "A", "", "", ["general"], c.Item1, 1, []), 1)))
            .ToList();
        var seen = new HashSet<string> { "a0", "a1", "a2" };
        var candidates = new QuestionDraw.Candidates(pool);
        const int draws = 40_000;
        var direct = new Dictionary<string, int>();
        var scan = new Dictionary<string, int>();
        var (directRandom, scanRandom) = (new Random(11), new Random(12));
        for (var i = 0; i < draws; i++)
        {
            var one = QuestionDraw.Pick(candidates, 3, seen, spread, directRandom);
            Assert.Equal(3, one.Select(q => q.Question.Id).Distinct().Count());
            if (spread) Assert.Equal(3, one.Select(q => q.Question.Category).Distinct().Count());
            foreach (var q in one) direct[q.Question.Id] = direct.GetValueOrDefault(q.Question.Id) + 1;
            foreach (var q in QuestionDraw.PickByScan(pool, 3, seen, spread, scanRandom)) scan[q.Question.Id] = scan.GetValueOrDefault(q.Question.Id) + 1;
        }

        Assert.DoesNotContain(direct.Keys, seen.Contains);
        foreach (var q in pool.Select(q => q.Question.Id).Except(seen))
        {
            var (d, c) = (direct.GetValueOrDefault(q), scan.GetValueOrDefault(q));
            // Two independent counts of one chance: their difference stays within five of its standard deviations.
            Assert.True(Math.Abs(d - c) <= 5 * Math.Sqrt(d + c) + 1, $"{q}: {d} direct against {c} by the scan");
        }
        // The lone question of category d: by its weight, far from the 3 in 4 of categories drawn alike.
        if (spread) Assert.InRange(direct["d0"] / (double)draws, 0.27, 0.34); // 0.304 by its weights
    }

    [Fact]
    public async Task APoolTooSmallForARoundDrawsNothing()
    {
        var stage = Stage with { QuestionsPerRound = 50, Difficulty = new Dictionary<string, int>() };
        Assert.Empty(await _draw.DrawAsync(stage, "elderly", new HashSet<string>(), new Random(1)));
    }
}
