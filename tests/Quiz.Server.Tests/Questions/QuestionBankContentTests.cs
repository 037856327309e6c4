using Quiz.Server.Questions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Questions;

/// <summary>The real question bank in question-bank/: it imports cleanly and meets the content rules.</summary>
public sealed class QuestionBankContentTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();
    private ImportReport _report = null!;
    private List<Question> _questions = null!;

    public static string BankFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "question-bank", "questions"))) return Path.Combine(dir.FullName, "question-bank");
            throw new DirectoryNotFoundException("question-bank not found above the test binaries");
        }
    }

    public async Task InitializeAsync()
    {
        _report = await _app.Service<QuestionImporter>().ImportAsync(QuestionImporter.FindFiles(BankFolder), dryRun: false);
        _questions = (await _app.Service<QuestionBank>().ListAsync()).Select(q => q.Question).ToList();
    }

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void EveryFileImportsWithoutError()
    {
        Assert.True(_report.Ok, string.Join(Environment.NewLine, _report.Errors.Take(20)));
        Assert.True(_report.Valid >= 300, $"{_report.Valid} questions");
        Assert.Equal(_report.Valid, _questions.Count);
    }

    [Fact]
    public void IdsAndStemsAreUnique()
    {
        Assert.Equal(_questions.Count, _questions.Select(q => q.Id.ToUpperInvariant()).Distinct().Count());
        Assert.Equal(_questions.Count, _questions.Select(q => string.Concat(q.Stem.Where(c => !char.IsWhiteSpace(c)))).Distinct().Count());
    }

    [Fact]
    public void EveryKeyPointsAtAnOptionAndMultipleChoiceHasTwoRight()
    {
        Assert.All(_questions, q =>
        {
            Assert.All(q.AnswerIndexes, i => Assert.InRange(i, 0, q.Options.Count - 1));
            if (q.Type == QuestionTypes.Multiple) Assert.True(q.Answer.Length >= 2, q.Id);
            else Assert.True(q.Answer.Length == 1, q.Id);
        });
    }

    [Fact]
    public void EveryQuestionHasAnExplanationAndASource()
    {
        Assert.All(_questions, q =>
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
    public void EachAudienceHasSixtyQuestionsOfItsOwn(string track) =>
        Assert.True(_questions.Count(q => q.Tracks.Contains(track)) >= 60, track);

    [Fact]
    public void ThereAreGeneralQuestions() => Assert.True(_questions.Count(q => q.Tracks.Contains("general")) >= 40);

    [Fact]
    public void TypesAreAboutHalfSingleAQuarterMultipleAQuarterTrueFalse()
    {
        double Share(string type) => _questions.Count(q => q.Type == type) / (double)_questions.Count;
        Assert.InRange(Share(QuestionTypes.Single), 0.40, 0.60);
        Assert.InRange(Share(QuestionTypes.Multiple), 0.18, 0.32);
        Assert.InRange(Share(QuestionTypes.TrueFalse), 0.18, 0.32);
    }

    [Fact]
    public void DifficultiesAreSpread()
    {
        foreach (var level in new[] { 1, 2, 3 })
            Assert.True(_questions.Count(q => q.Difficulty == level) >= _questions.Count / 10, $"difficulty {level}");
    }

    [Fact]
    public void EveryCategoryOfTheCampaignIsCovered()
    {
        string[] categories =
        [
            "law", "features", "pension", "private-fund", "virtual-currency", "rebate", "equity-crowdfunding",
            "online-lending", "rural", "free-trips", "offshore", "protection", "losses",
        ];
        Assert.All(categories, c => Assert.Contains(_questions, q => q.Category == c));
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
