using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Quiz.Server.Participants;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// A data folder and a small question bank on disk for tests that run the real server as a
/// process (<see cref="ServerProcess"/>): the PlayWorld's questions, units and campaign, open on
/// whatever day the test runs.
/// </summary>
public sealed class ProcessWorld : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quiz-tests", "proc-" + Guid.NewGuid().ToString("N"));
    public string DataDir => Path.Combine(_root, "data");
    public string BankDir => Path.Combine(_root, "bank");

    public static readonly string[] Unlimited =
    [
        "--RateLimits:RegistrationsPerMinutePerAddress=100000", "--RateLimits:RoundStartsPerMinutePerParticipant=100000",
        "--RateLimits:RoundStartsPerMinutePerAddress=1000000",
    ];

    public ProcessWorld(int attemptsPerDay = 100, int roundSeconds = 600)
    {
        Directory.CreateDirectory(DataDir);
        Directory.CreateDirectory(Path.Combine(BankDir, "questions"));
        Directory.CreateDirectory(Path.Combine(BankDir, "units"));
        Directory.CreateDirectory(Path.Combine(BankDir, "campaigns"));
        File.WriteAllBytes(Path.Combine(BankDir, "questions", "bank.csv"), SampleQuestions.Csv(PlayWorld.Questions()));
        File.WriteAllText(Path.Combine(BankDir, "units", "regions.csv"), PlayWorld.Regions);
        File.WriteAllText(Path.Combine(BankDir, "units", "organisations.csv"), PlayWorld.Organisations);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var campaign = PlayWorld.Campaign(s => s with
        {
            StartDay = today.AddDays(-2), EndDay = today.AddDays(2), AttemptsPerDay = attemptsPerDay, RoundSeconds = roundSeconds,
        });
        File.WriteAllText(Path.Combine(BankDir, "campaigns", "test.json"),
            System.Text.Json.JsonSerializer.Serialize(campaign, Quiz.Server.Campaigns.Campaign.Json));
    }

    public Task<ServerProcess> StartServerAsync(params string[] settings) =>
        ServerProcess.StartAsync(DataDir, BankDir, [.. Unlimited, .. settings]);

    /// <summary>Registers a new participant over HTTP, as a phone would, and returns their token.</summary>
    public static async Task<string> RegisterAsync(HttpClient http, int i, string region, string? organisation = null)
    {
        using var response = await http.PostAsJsonAsync("/api/participants/register",
            new { nickname = $"玩家{i}", mobile = PlayWorld.NextMobile(), regionCode = region, organisationCode = organisation, track = "general" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ParticipantsApi.Registered>())!.Token;
    }

    public SqliteConnection OpenStore() => new($"Data Source={Path.Combine(DataDir, "quiz.db")}");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
