using System.Net;
using System.Text.Json;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Hosting;

/// <remarks>One server for the class: every test only reads (the bundled bank is loaded by a server of its own).</remarks>
public sealed class HttpBasicsTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly QuizApplication _app = server.App;

    [Fact]
    public async Task HealthzAnswersOk()
    {
        using var client = _app.CreateClient();
        Assert.Equal("ok", await client.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task TheApiIsDescribedByOpenApi()
    {
        using var client = _app.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/admin/questions/import", out _));
        Assert.True(paths.TryGetProperty("/api/admin/questions/templates/{format}", out _));
    }

    [Fact]
    public async Task EnumsAreNamesInTheOpenApiDocumentInAnswersAndOnTheHubs()
    {
        using var client = _app.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        // A campaign rule (a converter of its own) and the ranking rule (only the server-wide one).
        foreach (var name in new[] { "Aggregation", "AggregationRule" })
        {
            var schema = schemas.GetProperty(name);
            Assert.Equal("string", schema.GetProperty("type").GetString());
            Assert.All(schema.GetProperty("enum").EnumerateArray(), value => Assert.Equal(JsonValueKind.String, value.ValueKind));
        }
        Assert.Contains("best-of-all", schemas.GetProperty("AggregationRule").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));

        var (campaign, errors) = Quiz.Server.Campaigns.CampaignCatalog.Parse(
            File.ReadAllText(Path.Combine(Questions.QuestionBankContentTests.BankFolder, "campaigns", "demo.json")));
        Assert.True(campaign is not null, string.Join("; ", errors));
        await _app.Service<Quiz.Server.Campaigns.CampaignCatalog>().SaveAsync(campaign);
        using var served = JsonDocument.Parse(await client.GetStringAsync("/api/campaigns/demo"));
        var stage = served.RootElement.GetProperty("stages")[0];
        Assert.Equal("best", stage.GetProperty("aggregation").GetString());
        Assert.Equal("best-of-all", stage.GetProperty("rule").GetString()); // a number before the server-wide converter

        var hub = _app.Service<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.SignalR.JsonHubProtocolOptions>>().Value;
        Assert.Equal("\"best-per-group-summed\"", JsonSerializer.Serialize(Quiz.Ranking.AggregationRule.BestPerGroupSummed, hub.PayloadSerializerOptions));
    }

    [Fact]
    public async Task UnknownPathsGetProblemDetails()
    {
        using var client = _app.CreateClient();
        using var response = await client.GetAsync("/no/such/thing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task FirstStartLoadsTheBundledQuestionBank()
    {
        var bank = Path.Combine(_app.DataDir, "bank");
        Directory.CreateDirectory(Path.Combine(bank, "questions"));
        File.WriteAllBytes(Path.Combine(bank, "questions", "q.csv"), SampleQuestions.Csv(SampleQuestions.Rows(3)));
        using var seeded = new QuizApplication().With("Seed:Enabled", "true").With("Seed:Path", bank);

        using var client = seeded.CreateAdminClient();
        var list = await client.GetStringAsync("/api/admin/questions/");

        Assert.Equal(3, JsonDocument.Parse(list).RootElement.GetArrayLength());
    }
}
