using System.Text.Json;
using Quiz.Server.Campaigns;
using Quiz.Server.Circulars;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Surveys;

/// <summary>The survey part of a campaign definition: its rules, and the sample campaigns' survey. No server.</summary>
public sealed class SurveyDefinitionTests
{
    private static List<string> Errors(Survey survey) => (PlayWorld.Campaign() with { Survey = survey }).Validate();

    [Fact]
    public void AGoodSurveyPasses() => Assert.Empty(Errors(SurveyWorld.Survey()));

    public static TheoryData<string, string> BadSurveys => new()
    {
        { """{"title":"问卷","questions":[]}""", "survey.questions: 1 to 5" },
        { """{"title":"问卷","questions":[{"id":"a","text":"1","kind":"text"},{"id":"b","text":"2","kind":"text"},{"id":"c","text":"3","kind":"text"},{"id":"d","text":"4","kind":"text"},{"id":"e","text":"5","kind":"text"},{"id":"f","text":"6","kind":"text"}]}""", "survey.questions: 1 to 5" },
        { """{"title":"问卷","questions":[{"id":"a","text":"1","kind":"text"},{"id":"a","text":"2","kind":"text"}]}""", "survey.questions: id 'a' is used twice" },
        { """{"title":"问卷","questions":[{"id":"a","text":"1","kind":"single","options":[{"id":"x","text":"X"}]}]}""", "survey.questions[a].options: 2 to 12" },
        { """{"title":"问卷","questions":[{"id":"a","text":"1","kind":"text","options":[{"id":"x","text":"X"}]}]}""", "survey.questions[a].options: a text question has none" },
        { """{"title":"问卷","questions":[{"id":"a","text":"1","options":[{"id":"x","text":"X"},{"id":"y","text":"X"}]}]}""", "survey.questions[a].options: text 'X' is used twice" },
        { """{"title":"问卷","questions":[{"id":"a","text":"1","options":[{"id":"x","text":"X","category":"Not A Code"},{"id":"y","text":"Y"}]}]}""", "survey.questions[a].options[0]: an id of lower-case letters, digits and '-' (at most 40), a text of 1 to 40 characters, and an optional category code" },
        { """{"title":"","questions":[{"id":"a","text":"1","kind":"text"}]}""", "survey.title: 1 to 60 characters" },
        { """{"title":"问卷","questions":[{"id":"A!","text":"1","kind":"text"}]}""", "survey.questions[0].id: lower-case letters, digits and '-', at most 40" },
    };

    [Theory]
    [MemberData(nameof(BadSurveys))]
    public void ABadSurveyIsNamed(string survey, string error) =>
        Assert.Contains(error, Errors(JsonSerializer.Deserialize<Survey>(survey, Campaign.Json)!));

    [Theory]
    [InlineData("demo")]
    [InlineData("2023-june")]
    [InlineData("2024-june")]
    [InlineData("2025-june")]
    public void TheSampleCampaignsAskWhatToLearnAndHow(string id)
    {
        var (campaign, errors) = CampaignCatalog.Parse(File.ReadAllText(Path.Combine(Questions.QuestionBankContentTests.BankFolder, "campaigns", id + ".json")));
        Assert.True(campaign is not null, string.Join("; ", errors));
        var survey = campaign.Survey!;
        Assert.Equal(["topics", "formats", "wishes"], survey.Questions.Select(q => q.Id));
        Assert.Contains(survey.Question("topics")!.Options, o => o.Text == "非法集资");
        Assert.Equal(["视频", "戏曲和地方戏", "讲座", "阅读"], survey.Question("formats")!.Options.Select(o => o.Text).Take(4));
        Assert.False(survey.Question("wishes")!.Required);
        // Every category an option names is one the bank's questions use (so the demand chart can set it beside a right rate).
        Assert.All(survey.Question("topics")!.Options.Where(o => o.Category is not null), o => Assert.True(CircularService.CategoryNames.ContainsKey(o.Category!), o.Category));
    }
}
