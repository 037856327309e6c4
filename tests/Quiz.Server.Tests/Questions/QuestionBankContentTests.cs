using Quiz.Server.Questions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Questions;

/// <summary>The real question bank in question-bank/: it imports cleanly and meets the content rules.</summary>
/// The bank is imported once for the class (<see cref="LoadedBank"/>); every test reads it.
public sealed class QuestionBankContentTests(QuestionBankContentTests.LoadedBank bank) : IClassFixture<QuestionBankContentTests.LoadedBank>
{
    public sealed class LoadedBank : IAsyncLifetime
    {
        private readonly QuizApplication _app = new();
        public ImportReport Report { get; private set; } = null!;
        public List<Question> Questions { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Report = await _app.Service<QuestionImporter>().ImportAsync(QuestionImporter.FindFiles(BankFolder), dryRun: false);
            Questions = (await _app.Service<QuestionBank>().ListAsync()).Select(q => q.Question).ToList();
        }

        public Task DisposeAsync()
        {
            _app.Dispose();
            return Task.CompletedTask;
        }
    }

    public static string BankFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "question-bank", "questions"))) return Path.Combine(dir.FullName, "question-bank");
            throw new DirectoryNotFoundException("question-bank not found above the test binaries");
        }
    }

    [Fact]
    public void EveryFileImportsWithoutError()
    {
        Assert.True(bank.Report.Ok, string.Join(Environment.NewLine, bank.Report.Errors.Take(20)));
        Assert.True(bank.Report.Valid >= 400, $"{bank.Report.Valid} questions");
        Assert.Equal(bank.Report.Valid, bank.Questions.Count);
    }

    [Fact]
    public void IdsAndStemsAreUnique()
    {
        Assert.Equal(bank.Questions.Count, bank.Questions.Select(q => q.Id.ToUpperInvariant()).Distinct().Count());
        Assert.Equal(bank.Questions.Count, bank.Questions.Select(q => string.Concat(q.Stem.Where(c => !char.IsWhiteSpace(c)))).Distinct().Count());
    }

    [Fact]
    public void EveryKeyPointsAtAnOptionAndMultipleChoiceHasTwoRight()
    {
        Assert.All(bank.Questions, q =>
        {
            Assert.All(q.AnswerIndexes, i => Assert.InRange(i, 0, q.Options.Count - 1));
            if (q.Type == QuestionTypes.Multiple) Assert.True(q.Answer.Length >= 2, q.Id);
            else Assert.True(q.Answer.Length == 1, q.Id);
        });
    }

    [Fact]
    public void EveryQuestionHasAnExplanationAndASource()
    {
        Assert.All(bank.Questions, q =>
        {
            Assert.False(string.IsNullOrWhiteSpace(q.Explanation), q.Id);
            Assert.False(string.IsNullOrWhiteSpace(q.Source), q.Id);
            Assert.True(q.Explanation.Length >= 15, $"{q.Id}: an explanation says why, not just the answer");
        });
    }

    [Theory]
    [InlineData("elderly")]
    [InlineData("student")]
    [InlineData("workplace")]
    [InlineData("countryside")]
    [InlineData("city")]
    public void EachAudienceHasSeventyQuestionsOfItsOwn(string track) =>
        Assert.True(bank.Questions.Count(q => q.Tracks.Contains(track)) >= 70, track);

    // ---- not guessable by form (issue 15): a player who knows nothing should not score by
    // picking the longest option, the one with the absolute word, or "all but the lawful one".

    [Fact]
    public void TheRightOptionIsTheLongestInAtMostAThirdOfSingleChoiceQuestions()
    {
        var singles = bank.Questions.Where(q => q.Type == QuestionTypes.Single).ToList();
        var longest = singles.Count(q => q.Options[q.AnswerIndexes.Single()].Length == q.Options.Max(o => o.Length));
        Assert.True(longest <= singles.Count * 0.35, $"the key is the longest (or tied) in {longest} of {singles.Count}");
    }

    [Fact]
    public void MostMultipleChoiceQuestionsHaveSeveralWrongOptionsAndTheNumberOfRightOnesVaries()
    {
        var multiples = bank.Questions.Where(q => q.Type == QuestionTypes.Multiple).ToList();
        var severalWrong = multiples.Count(q => q.Options.Count - q.Answer.Length >= 2);
        Assert.True(severalWrong >= multiples.Count * 0.5, $"{severalWrong} of {multiples.Count} have two or more wrong options");
        var rightCounts = multiples.GroupBy(q => q.Answer.Length).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(rightCounts.Count(c => c.Value >= multiples.Count / 10) >= 2, $"right options per question: {string.Join(", ", rightCounts)}");
    }

    private static readonly string[] AbsoluteWords =
        ["只要", "一定", "凡是", "一律", "所有", "绝对", "任何", "必然", "肯定", "从不", "完全", "都能", "都是", "保证", "必须"];

    [Fact]
    public void AbsoluteWordsAreAsCommonInTrueStatementsAsInFalseOnes()
    {
        var truefalse = bank.Questions.Where(q => q.Type == QuestionTypes.TrueFalse).ToList();
        double Share(string key)
        {
            var keyed = truefalse.Where(q => q.Answer == key).ToList();
            return keyed.Count(q => AbsoluteWords.Any(q.Stem.Contains)) / (double)keyed.Count;
        }
        var (inTrue, inFalse) = (Share("A"), Share("B"));
        Assert.True(Math.Abs(inTrue - inFalse) <= 0.15, $"absolute words in {inTrue:P0} of true and {inFalse:P0} of false statements");
        var trueShare = truefalse.Count(q => q.Answer == "A") / (double)truefalse.Count;
        Assert.InRange(trueShare, 0.35, 0.65);
    }

    [Fact]
    public void OptionsFitAPhone() =>
        Assert.All(bank.Questions, q => Assert.All(q.Options, o => Assert.True(o.Length <= 40, $"{q.Id}: '{o}' has {o.Length} characters")));

    [Fact]
    public void EverySourceNamesAnArticleOrADocumentNumber()
    {
        var article = new System.Text.RegularExpressions.Regex(@"第[一二三四五六七八九十百零〇\d]+条|〔\d{4}〕|\d+号|第[一二三四五六七八九十\d]+点");
        Assert.All(bank.Questions, q => Assert.True(article.IsMatch(q.Source), $"{q.Id}: '{q.Source}' names no article"));
        // The definition (Art. 2) is the source only where the definition is the point.
        var definitionOnly = bank.Questions.Count(q => q.Source.Trim() == "《防范和处置非法集资条例》第二条");
        Assert.True(definitionOnly <= bank.Questions.Count / 10, $"{definitionOnly} questions rest on Art. 2 alone");
    }

    [Fact]
    public void ThereAreGeneralQuestions() => Assert.True(bank.Questions.Count(q => q.Tracks.Contains("general")) >= 40);

    [Fact]
    public void TypesAreAboutHalfSingleAQuarterMultipleAQuarterTrueFalse()
    {
        double Share(string type) => bank.Questions.Count(q => q.Type == type) / (double)bank.Questions.Count;
        Assert.InRange(Share(QuestionTypes.Single), 0.40, 0.60);
        Assert.InRange(Share(QuestionTypes.Multiple), 0.18, 0.32);
        Assert.InRange(Share(QuestionTypes.TrueFalse), 0.18, 0.32);
    }

    [Fact]
    public void DifficultiesAreSpread()
    {
        foreach (var level in new[] { 1, 2, 3 })
            Assert.True(bank.Questions.Count(q => q.Difficulty == level) >= bank.Questions.Count / 10, $"difficulty {level}");
    }

    [Fact]
    public void EveryCategoryOfTheCampaignIsCovered()
    {
        string[] categories =
        [
            "law", "features", "pension", "private-fund", "virtual-currency", "rebate", "equity-crowdfunding",
            "online-lending", "rural", "free-trips", "offshore", "protection", "losses",
        ];
        Assert.All(categories, c => Assert.Contains(bank.Questions, q => q.Category == c));
    }

    [Fact]
    public void TheSampleCampaignsAndUnitsLoad()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(BankFolder, "campaigns"), "*.json"))
        {
            var (campaign, errors) = Quiz.Server.Campaigns.CampaignCatalog.Parse(File.ReadAllText(file));
            Assert.True(campaign is not null, $"{file}: {string.Join("; ", errors)}");
        }
    }
}
