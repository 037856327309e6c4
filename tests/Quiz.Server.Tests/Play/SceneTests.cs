using Dapper;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Server.Campaigns;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>Scenes picked by the participant: each draws from its own pool, one scene a day, the day's attempts shared.</summary>
public sealed class SceneTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new(kestrel: true);
    private PlayWorld.Player _player = null!;

    internal static readonly Scene[] Scenes = [new("campus", "校园", ["student"]), new("home", "家庭", ["elderly"])];

    public async Task InitializeAsync()
    {
        await PlayWorld.SeedAsync(_app, PlayWorld.Campaign(s => s with { Scenes = Scenes }));
        _player = await PlayWorld.ConnectPlayerAsync(_app);
    }

    public async Task DisposeAsync()
    {
        await _player.DisposeAsync();
        _app.Dispose();
    }

    private Task<RoundView> StartAsync(string? scene) =>
        _player.Connection.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(PlayWorld.CampaignId, scene));

    private Task<RoundResult> FinishAsync(string roundId) =>
        _player.Connection.InvokeAsync<RoundResult>("Finish", new FinishRequest(roundId));

    private static async Task<string> ErrorOf(Func<Task> call) => PlayHubTests.PlayErrorText((await Assert.ThrowsAsync<HubException>(call)).Message);

    [Fact]
    public async Task ARoundDrawsFromItsScenesPoolAndTheSceneIsStoredWithIt()
    {
        Assert.StartsWith("scene-required: pick a scene: campus, home", await ErrorOf(() => StartAsync(null)));
        Assert.StartsWith("unknown-scene:", await ErrorOf(() => StartAsync("office")));

        var round = await StartAsync("campus");

        Assert.Equal("campus", round.Scene);
        Assert.All(round.Questions, q => Assert.StartsWith("STU-", q.QuestionId)); // the player's own track is general
        await using var connection = await _app.Service<Database>().OpenAsync();
        Assert.Equal("campus", await connection.ExecuteScalarAsync<string>("SELECT scene FROM rounds WHERE id = @RoundId", round));
    }

    [Fact]
    public async Task APersonPlaysOneSceneADayAndTheDaysAttemptsAreShared()
    {
        var first = await StartAsync("home");
        await FinishAsync(first.RoundId);

        Assert.StartsWith("scene-taken: today's scene is 'home'", await ErrorOf(() => StartAsync("campus")));
        var second = await StartAsync("home");
        Assert.Equal(1, second.AttemptsLeft); // the refused start used no attempt
        await FinishAsync(second.RoundId);
        await FinishAsync((await StartAsync("home")).RoundId);
        Assert.StartsWith("no-attempts-left:", await ErrorOf(() => StartAsync("home")));
        Assert.StartsWith("scene-taken:", await ErrorOf(() => StartAsync("campus")));

        _app.Clock.Advance(TimeSpan.FromDays(1));
        var nextDay = await StartAsync("campus");
        Assert.Equal(("campus", 2), (nextDay.Scene, nextDay.AttemptsLeft));
    }

    [Fact]
    public async Task ADayWhoseRoundsWereAllVoidedIsFreeForAnotherScene()
    {
        var store = _app.Service<RoundStore>();
        var now = _app.Clock.GetUtcNow();
        RoundStore.StartedRound Round(string id, string scene) =>
            new(id, PlayWorld.CampaignId, "main", _player.Id, "2024-06-12", now, now.AddMinutes(2), "[]", scene);

        Assert.Equal(new RoundStore.Claim(2, null), await store.StartAsync(Round("void-1", "home"), 3));
        Assert.Equal(new RoundStore.Claim(null, "home"), await store.StartAsync(Round("void-2", "campus"), 3));
        Assert.Equal(1, await store.VoidAbandonedAsync(deadBefore: null)); // as after a restart: the attempt is given back
        Assert.Equal(new RoundStore.Claim(2, null), await store.StartAsync(Round("void-3", "campus"), 3));
    }
}
