using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;
using Quiz.Server.Questions;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// A small world to play in: one province with a city and two counties, two organisations, a
/// question bank of every type, difficulty and track, and a campaign open on the fake clock's day.
/// </summary>
public static class PlayWorld
{
    public const string Province = "340000", City = "340100", County = "340102", OtherCounty = "340103";
    public const string Bank = "ORG-001", University = "ORG-002";
    public const string CampaignId = "test-june";

    public const string Regions = """
        code,name,parent_code,level,headcount_base
        340000,安徽省,,province,50000000
        340100,合肥市,340000,city,8000000
        340102,瑶海区,340100,county,900000
        340103,庐阳区,340100,county,700000
        """;

    public const string Organisations = """
        code,name,type,region_code,headcount_base,demo
        ORG-001,江淮示范银行,bank,340102,1200,true
        ORG-002,皖中示范学院,university,340103,20000,true
        """;

    /// <summary>The campaign: its one stage runs 12–21 June 2024 (the fake clock starts 12 June, 10:00 CST).</summary>
    public static Campaign Campaign(Func<Stage, Stage>? change = null)
    {
        var stage = new Stage
        {
            Id = "main", Name = "正式赛", StartDay = new DateOnly(2024, 6, 12), EndDay = new DateOnly(2024, 6, 21),
            QuestionsPerRound = 5, RoundSeconds = 120, AttemptsPerDay = 3, MinAnswerMs = 0,
            Difficulty = new Dictionary<string, int> { ["1"] = 2, ["2"] = 2, ["3"] = 1 },
        };
        return new Campaign { Id = CampaignId, Name = "测试赛", Stages = [change?.Invoke(stage) ?? stage] };
    }

    /// <summary>Per track: 12 questions (4 of each difficulty, in 4 categories); types single, multiple, truefalse in turn.</summary>
    public static List<Dictionary<string, string>> Questions()
    {
        var rows = new List<Dictionary<string, string>>();
        string[] categories = ["law", "features", "pension", "protection"];
        foreach (var track in new[] { "general", "elderly", "student" })
            for (var i = 0; i < 12; i++)
            {
                var type = (i % 3) switch { 0 => "single", 1 => "multiple", _ => "truefalse" };
                var row = SampleQuestions.Row($"{track[..3].ToUpperInvariant()}-{i:00}", stem: $"{track}第{i}题：下列说法是否正确？",
                    type: type, answer: type switch { "single" => "B", "multiple" => "BD", _ => "A" });
                row["tracks"] = track;
                row["difficulty"] = (i % 3 + 1).ToString();
                row["category"] = categories[i / 3];
                rows.Add(row);
            }
        return rows;
    }

    public static async Task SeedAsync(QuizApplication app, Campaign? campaign = null)
    {
        var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes(Regions), ".csv");
        var organisations = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes(Organisations), ".csv");
        var result = await app.Service<UnitImport>().ImportAsync([(regions, "regions.csv"), (organisations, "organisations.csv")]);
        Assert.True(result.Ok, string.Join("; ", result.Errors));
        var questions = SampleQuestions.WriteTemp(SampleQuestions.Csv(Questions()), ".csv");
        var report = await app.Service<QuestionImporter>().ImportAsync([(questions, "bank.csv")], dryRun: false);
        Assert.True(report.Ok, string.Join("; ", report.Errors));
        campaign ??= Campaign();
        Assert.Empty(campaign.Validate());
        await app.Service<CampaignCatalog>().SaveAsync(campaign);
        foreach (var file in new[] { regions, organisations, questions }) File.Delete(file);
    }

    /// <summary>
    /// This world as a question-bank folder, for a server started as its own process: the campaign
    /// open on whatever day the test runs, with attempts enough for a burst.
    /// </summary>
    public static void WriteBank(string folder)
    {
        Directory.CreateDirectory(Path.Combine(folder, "questions"));
        Directory.CreateDirectory(Path.Combine(folder, "units"));
        Directory.CreateDirectory(Path.Combine(folder, "campaigns"));
        File.WriteAllBytes(Path.Combine(folder, "questions", "bank.csv"), SampleQuestions.Csv(Questions()));
        File.WriteAllText(Path.Combine(folder, "units", "regions.csv"), Regions);
        File.WriteAllText(Path.Combine(folder, "units", "organisations.csv"), Organisations);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var campaign = Campaign(s => s with { StartDay = today.AddDays(-2), EndDay = today.AddDays(2), AttemptsPerDay = 100, RoundSeconds = 600 });
        File.WriteAllText(Path.Combine(folder, "campaigns", "test.json"), JsonSerializer.Serialize(campaign, Quiz.Server.Campaigns.Campaign.Json));
    }

    public sealed record Player(long Id, string Token, HubConnection Connection) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }

    private static int _mobiles;

    public static string NextMobile() => $"139{Interlocked.Increment(ref _mobiles) + 10_000_000 * (Environment.ProcessId % 9):00000000}";

    public static async Task<ParticipantsApi.Registered> RegisterAsync(QuizApplication app, string? mobile = null, string region = County,
        string track = "general", string? organisation = Bank)
    {
        using var client = app.CreateClient();
        return await RegisterAsync(client, app.Codes, new
        {
            nickname = "测试用户", mobile = mobile ?? NextMobile(), regionCode = region, organisationCode = organisation, track,
        });
    }

    /// <summary>Registers as a person does: the form, then the code the server sent (read from its log), then the token.</summary>
    public static async Task<ParticipantsApi.Registered> RegisterAsync(HttpClient client, VerificationLog codes, object registration)
    {
        var sent = await StartRegistrationAsync(client, registration);
        using var response = await client.PostAsJsonAsync("/api/participants/verify",
            new { sent.VerificationId, code = await codes.CodeForAsync(sent.VerificationId) });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ParticipantsApi.Registered>())!;
    }

    /// <summary>The first step alone: the form is sent and a code is on its way.</summary>
    public static async Task<ParticipantsApi.VerificationSent> StartRegistrationAsync(HttpClient client, object registration)
    {
        using var response = await client.PostAsJsonAsync("/api/participants/register", registration);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ParticipantsApi.VerificationSent>())!;
    }

    /// <summary>A question-bank folder (units, questions, the campaign) for a server process to seed from.</summary>
    public static void WriteBank(string bankDir, Campaign campaign)
    {
        Directory.CreateDirectory(Path.Combine(bankDir, "questions"));
        Directory.CreateDirectory(Path.Combine(bankDir, "units"));
        Directory.CreateDirectory(Path.Combine(bankDir, "campaigns"));
        File.WriteAllBytes(Path.Combine(bankDir, "questions", "bank.csv"), SampleQuestions.Csv(Questions()));
        File.WriteAllText(Path.Combine(bankDir, "units", "regions.csv"), Regions);
        File.WriteAllText(Path.Combine(bankDir, "units", "organisations.csv"), Organisations);
        File.WriteAllText(Path.Combine(bankDir, "campaigns", "test.json"), JsonSerializer.Serialize(campaign, Quiz.Server.Campaigns.Campaign.Json));
    }

    public static HubConnection Connection(QuizApplication app, string token) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(app.ServerAddress, "/hubs/play"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .WithAutomaticReconnect()
            .WithStatefulReconnect()
            .Build();

    /// <summary>Registers a participant and connects them to the play hub.</summary>
    public static async Task<Player> ConnectPlayerAsync(QuizApplication app, string track = "general", string region = County, string? organisation = Bank)
    {
        var registered = await RegisterAsync(app, track: track, region: region, organisation: organisation);
        var connection = Connection(app, registered.Token);
        await connection.StartAsync();
        return new Player(registered.Participant.ParticipantId, registered.Token, connection);
    }

    public static JsonElement ToJson(object value) => JsonSerializer.SerializeToElement(value);
}
