using System.Net.Http.Json;
using Quiz.Server.Accounts;
using Quiz.Server.Play;
using Quiz.Server.Security;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>Staff accounts and their logged-in clients, and quick rounds played through the service.</summary>
public static class Staff
{
    public const string Password = "correct horse battery";

    public static async Task CreateAsync(QuizApplication app, string name, string role, string? unit)
    {
        using var admin = app.CreateAdminClient();
        using var response = await admin.PostAsJsonAsync("/api/admin/accounts", new { name, password = Password, role, unitCode = unit });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A client holding the staff cookie and sending the antiforgery token, as the pages do.</summary>
    public static async Task<HttpClient> LoginAsync(QuizApplication app, string name, string role = Roles.UnitStaff, string? unit = null)
    {
        await CreateAsync(app, name, role, unit);
        var client = app.CreateClient();
        (await client.PostAsJsonAsync("/api/accounts/login", new { name, password = Password })).EnsureSuccessStatusCode();
        var token = await client.GetFromJsonAsync<AccountsApi.AntiforgeryToken>("/api/accounts/antiforgery");
        client.DefaultRequestHeaders.Add(token!.HeaderName, token.Token);
        return client;
    }

    /// <summary>Registers a player in a unit and plays one round choosing option 0 every time.</summary>
    public static async Task<RoundResult> PlayRoundAsync(QuizApplication app, string region, string? organisation = null, string? mobile = null)
    {
        var registered = await PlayWorld.RegisterAsync(app, mobile: mobile, region: region, organisation: organisation);
        var rounds = app.Service<RoundService>();
        var id = registered.Participant.ParticipantId;
        var round = await rounds.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));
        for (var i = 0; i < round.Questions.Count; i++) await rounds.AnswerAsync(id, new AnswerRequest(round.RoundId, i, [0]));
        return await rounds.FinishAsync(id, new FinishRequest(round.RoundId));
    }

    /// <summary>Unit counters are summed in memory and flushed on a timer; the fake clock stops it, so flush by hand.</summary>
    public static async Task FlushRankingsAsync(QuizApplication app)
    {
        var engine = app.Service<Quiz.Ranking.IRankingEngine>();
        await engine.FlushAsync();
        await engine.RefreshAsync();
    }
}
