using System.Net;
using System.Net.Http.Json;
using System.Text;
using Quiz.Server.Campaigns;
using Quiz.Server.Questions;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Campaigns;

/// <remarks>One server for the class: each test writes a campaign of its own id.</remarks>
public sealed class CampaignTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly QuizApplication _app = server.App;

    private async Task<HttpResponseMessage> PutAsync(string id, string json)
    {
        using var client = _app.CreateAdminClient();
        return await client.PutAsync($"/api/admin/campaigns/{id}", new StringContent(json, Encoding.UTF8, "application/json"));
    }

    [Fact]
    public async Task ACampaignDefinitionIsStoredAndServedBack()
    {
        var json = File.ReadAllText(Path.Combine(Questions.QuestionBankContentTests.BankFolder, "campaigns", "2023-june.json"));

        (await PutAsync("2023-june", json)).EnsureSuccessStatusCode();
        using var client = _app.CreateClient();
        var campaign = await client.GetFromJsonAsync<Campaign>("/api/campaigns/2023-june", Campaign.Json);

        Assert.Equal(["warm-up", "main"], campaign!.Stages.Select(s => s.Id));
        var main = campaign.Stage("main")!;
        Assert.Equal((10, 180, Aggregation.BestOfDaySummed, false), (main.QuestionsPerRound, main.RoundSeconds, main.Aggregation, main.ShowAnswers));
        Assert.Equal(10, main.Points.For(QuestionTypes.Multiple));
        Assert.Equal(TimeSpan.FromSeconds(100), campaign.Stage("warm-up")!.RoundTime); // 5 questions × 20 s
    }

    [Fact]
    public async Task AnInvalidDefinitionNamesEveryProblemAndChangesNothing()
    {
        const string json = """
            {
              "id": "bad", "name": "坏的",
              "stages": [
                { "id": "a", "name": "甲", "startDay": "2024-06-12", "endDay": "2024-06-10", "questionsPerRound": 0, "attemptsPerDay": 3,
                  "pools": { "pilots": ["general"] }, "difficulty": { "1": 5 } },
                { "id": "b", "name": "乙", "startDay": "2024-06-11", "endDay": "2024-06-20", "roundSeconds": 60, "tieBreak": "coin-toss",
                  "opensAt": "10am", "scenes": [ { "id": "campus", "name": "校园", "pool": ["pilots"] } ], "aggregation": "best-per-scene-summed" }
              ]
            }
            """;

        using var response = await PutAsync("bad", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<CampaignsApi.CampaignErrors>())!.Errors;
        Assert.Contains(errors, e => e.Contains("endDay"));
        Assert.Contains(errors, e => e.Contains("questionsPerRound"));
        Assert.Contains(errors, e => e.Contains("roundSeconds or questionSeconds"));
        Assert.Contains(errors, e => e.Contains("'pilots' is not a track"));
        Assert.Contains(errors, e => e.Contains("difficulty"));
        Assert.Contains(errors, e => e.Contains("tieBreak"));
        Assert.Contains(errors, e => e.Contains("overlap"));
        Assert.Contains("stages[b].opensAt: a time of day like \"10:00\"", errors);
        Assert.Contains(errors, e => e.StartsWith("stages[b].scenes[campus].pool", StringComparison.Ordinal));
        Assert.DoesNotContain(_app.Service<CampaignCatalog>().All, c => c.Id == "bad");
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"id\": \"x\", \"name\": \"x\", \"stages\": [], \"colour\": \"red\"}")]
    [InlineData("[]")]
    public async Task MalformedDefinitionsAreRefused(string json)
    {
        using var response = await PutAsync("x", json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task TheBodyMustNameTheSameCampaignAsTheAddress()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(PlayWorld.Campaign(), Campaign.Json);
        using var response = await PutAsync("someone-else", json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public void DaysAreChinaStandardTimeByDefault()
    {
        var campaign = PlayWorld.Campaign();
        Assert.Equal(new DateOnly(2024, 6, 12), campaign.DayOf(new DateTimeOffset(2024, 6, 11, 16, 0, 0, TimeSpan.Zero))); // 00:00 CST
        Assert.Equal(new DateOnly(2024, 6, 11), campaign.DayOf(new DateTimeOffset(2024, 6, 11, 15, 59, 59, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2024, 6, 12, 0, 0, 0, TimeSpan.FromHours(8)), campaign.Start);
    }

    [Fact]
    public void TheOrganiserIsOptionalAndAtMost100Characters()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(PlayWorld.Campaign(), Campaign.Json);
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node.Remove("organiser");
        Assert.Null(CampaignCatalog.Parse(node.ToJsonString()).Campaign!.Organiser);

        node["organiser"] = "合肥市处置非法集资工作领导小组办公室";
        Assert.Equal("合肥市处置非法集资工作领导小组办公室", CampaignCatalog.Parse(node.ToJsonString()).Campaign!.Organiser);

        node["organiser"] = new string('办', 101);
        var (refused, errors) = CampaignCatalog.Parse(node.ToJsonString());
        Assert.Null(refused);
        Assert.Contains(errors, e => e.StartsWith("organiser:", StringComparison.Ordinal));
    }

    [Fact]
    public void RegistrationDefaultsToACountyAndATrackAndIsValidatedWithTheCampaign()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(PlayWorld.Campaign(), Campaign.Json);
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node.Remove("registration");
        var (campaign, errors) = CampaignCatalog.Parse(node.ToJsonString());
        Assert.Empty(errors);
        Assert.Equal(new RegistrationRules { RegionLevel = RegionLevel.County, Track = TrackChoice.Required }, campaign!.Registration);

        node["registration"] = System.Text.Json.Nodes.JsonNode.Parse("""{ "regionLevel": "province", "track": "none" }""");
        Assert.Equal(new RegistrationRules { RegionLevel = RegionLevel.Province, Track = TrackChoice.None }, CampaignCatalog.Parse(node.ToJsonString()).Campaign!.Registration);

        foreach (var (bad, error) in new[]
        {
            ("""{ "regionLevel": 7 }""", "registration.regionLevel"),
            ("""{ "track": 9 }""", "registration.track"),
            ("null", "registration:"),
            ("""{ "regionLevel": "district" }""", "not a campaign definition"),
            ("""{ "fields": [] }""", "not a campaign definition"),
        })
        {
            node["registration"] = System.Text.Json.Nodes.JsonNode.Parse(bad);
            var (refused, found) = CampaignCatalog.Parse(node.ToJsonString());
            Assert.Null(refused);
            Assert.Contains(found, e => e.StartsWith(error, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void PoolsDefaultToTheTrackAndGeneral()
    {
        var stage = PlayWorld.Campaign().Stages[0] with { Pools = new Dictionary<string, string[]> { ["student"] = ["student"] } };
        Assert.Equal(["student"], stage.PoolFor("student"));
        Assert.Equal(["elderly", "general"], stage.PoolFor("elderly"));
        Assert.Equal(["general"], stage.PoolFor("general"));
    }
}

public sealed class ScoringTests
{
    private static readonly Question Multiple = new("M", QuestionTypes.Multiple, "s", ["a", "b", "c", "d"], "ABC", "e", "s", ["general"], "law", 1, []);
    private static readonly Question Single = new("S", QuestionTypes.Single, "s", ["a", "b", "c"], "B", "e", "s", ["general"], "law", 1, []);

    [Fact]
    public void MultipleChoiceIsAllOrNothingByDefault()
    {
        var stage = PlayWorld.Campaign().Stages[0] with { Points = new Points(Single: 1, Multiple: 4, TrueFalse: 1) };
        Assert.Equal(4, Scoring.Points(stage, Multiple, "ABC"));
        Assert.Equal(0, Scoring.Points(stage, Multiple, "AB"));
        Assert.Equal(0, Scoring.Points(stage, Multiple, "ABCD"));
    }

    [Fact]
    public void PartialScoringGivesHalfForARightSubsetOnly()
    {
        var stage = PlayWorld.Campaign().Stages[0] with { Points = new Points(Multiple: 4), MultipleScoring = MultipleScoring.Partial };
        Assert.Equal(4, Scoring.Points(stage, Multiple, "ABC"));
        Assert.Equal(2, Scoring.Points(stage, Multiple, "AC"));
        Assert.Equal(0, Scoring.Points(stage, Multiple, "AD"));
    }

    [Fact]
    public void PointsFollowTheQuestionType()
    {
        var stage = PlayWorld.Campaign().Stages[0] with { Points = new Points(Single: 3, Multiple: 5, TrueFalse: 2) };
        Assert.Equal(3, Scoring.Points(stage, Single, "B"));
        Assert.Equal(0, Scoring.Points(stage, Single, "A"));
        Assert.Equal(10, stage.MaxScore([QuestionTypes.Single, QuestionTypes.Multiple, QuestionTypes.TrueFalse]));
    }
}
