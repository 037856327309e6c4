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

    /// <summary>
    /// Makes the rankings current: the engine's boards refreshed, and the unit boards once the
    /// store's projection they read (unit_daily_stats, a bus delivery behind the finishes) has
    /// applied every committed round.
    /// </summary>
    public static async Task FlushRankingsAsync(QuizApplication app)
    {
        await app.Service<Quiz.Ranking.IRankingEngine>().RefreshAsync();
        var database = app.Service<Quiz.Server.Storage.Database>();
        var behind = await Eventually.ReadAsync(async () =>
        {
            await using var connection = await database.OpenAsync();
            return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, $"""
                SELECT COUNT(*) FROM results r
                WHERE r.id > COALESCE((SELECT result_id FROM projection_watermarks WHERE projection = '{Quiz.Server.Events.UnitDailyStatsConsumer.Name}'), 0)
                  AND NOT EXISTS (SELECT 1 FROM projection_applied p WHERE p.projection = '{Quiz.Server.Events.UnitDailyStatsConsumer.Name}' AND p.result_id = r.id)
                """);
        }, n => n == 0, TimeSpan.FromSeconds(15));
        Assert.Equal(0, behind);
        await app.Service<Quiz.Server.Rankings.UnitStandings>().RefreshAsync();
    }
}
