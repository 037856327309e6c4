using Dapper;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>
/// Rounds in play live in their node's memory: a restarting node voids only its own, and the
/// rounds of a node that died come back as attempts once they are well past their deadline.
/// </summary>
public sealed class AbandonedRoundTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    private async Task<(string Status, int Used)> StateAsync(string roundId)
    {
        await using var connection = await _app.Service<Database>().OpenAsync();
        return (await connection.ExecuteScalarAsync<string>("SELECT status FROM rounds WHERE id = @roundId", new { roundId }) ?? "",
            await connection.ExecuteScalarAsync<int>("SELECT COALESCE(SUM(used), 0) FROM attempts"));
    }

    [Fact]
    public async Task ARestartVoidsOnlyItsOwnRoundsAndADeadNodesRoundsAreSweptAfterTheirDeadline()
    {
        var registered = await PlayWorld.RegisterAsync(_app);
        var store = _app.Service<RoundStore>();
        var now = _app.Clock.GetUtcNow();
        var deadline = now + TimeSpan.FromMinutes(2);
        // A round another node started (it is in that node's memory, not this one's).
        var left = await store.StartAsync(new RoundStore.StartedRound("r-of-another-node", PlayWorld.CampaignId, "main",
            registered.Participant.ParticipantId, "2024-06-12", now, deadline, "[]", null), attemptsPerDay: 3);
        Assert.Equal(new RoundStore.Claim(2, null), left);
        await using (var connection = await _app.Service<Database>().OpenAsync())
            await connection.ExecuteAsync("UPDATE rounds SET node = 'another-node' WHERE id = 'r-of-another-node'");

        await _app.Service<RoundService>().VoidInterruptedRoundsAsync(); // this node restarting
        Assert.Equal(("started", 1), await StateAsync("r-of-another-node"));

        _app.Clock.Advance(deadline - now + RoundSweeper.Grace - TimeSpan.FromSeconds(30)); // not yet: its node could still finish it
        Assert.Equal(("started", 1), await StateAsync("r-of-another-node"));

        _app.Clock.Advance(TimeSpan.FromMinutes(2)); // the sweeper runs every minute
        var state = await StateAsync("r-of-another-node");
        for (var i = 0; i < 300 && state.Status != "void"; i++)
        {
            await Task.Delay(10);
            state = await StateAsync("r-of-another-node");
        }
        Assert.Equal(("void", 0), state);
    }
}
