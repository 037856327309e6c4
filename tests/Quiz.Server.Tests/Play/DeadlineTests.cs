using Microsoft.Extensions.Time.Testing;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Play;

/// <summary>Auto-finish happens at the deadline, never before, even when the platform's timers fire a little early.</summary>
public sealed class DeadlineTests : IAsyncLifetime
{
    private static readonly TimeSpan Early = TimeSpan.FromMilliseconds(3);
    private readonly QuizApplication _app = new() { ServerClock = clock => new EarlyTimers(clock) };

    /// <summary>The fake clock, but every timer fires <see cref="Early"/> before it is due, as real timers sometimes do.</summary>
    private sealed class EarlyTimers(FakeTimeProvider clock) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();
        public override long GetTimestamp() => clock.GetTimestamp();
        public override long TimestampFrequency => clock.TimestampFrequency;
        public override TimeZoneInfo LocalTimeZone => clock.LocalTimeZone;
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            clock.CreateTimer(callback, state, dueTime > Early ? dueTime - Early : dueTime, period);
    }

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ARoundNeverFinishesItselfBeforeItsDeadline()
    {
        var registered = await PlayWorld.RegisterAsync(_app);
        var id = registered.Participant.ParticipantId;
        var rounds = _app.Service<RoundService>();
        var round = await rounds.StartAsync(id, new StartRoundRequest(PlayWorld.CampaignId));

        _app.Clock.Advance(round.Deadline - round.ServerNow - Early); // the early timer fires now (callbacks run inside Advance)
        Assert.NotNull(await rounds.CurrentAsync(id, PlayWorld.CampaignId));      // still in play: 3 ms are left

        _app.Clock.Advance(Early + TimeSpan.FromMilliseconds(2));
        var result = await rounds.FinishAsync(id, new FinishRequest(round.RoundId));
        Assert.True(result.AutoFinished);
        Assert.Equal((int)(round.Deadline - round.StartedAt).TotalMilliseconds, result.DurationMs);
        Assert.Null(await rounds.CurrentAsync(id, PlayWorld.CampaignId));
    }
}
