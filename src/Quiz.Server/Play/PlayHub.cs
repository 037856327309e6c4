using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Quiz.Server.Hosting;
using Quiz.Server.Participants;

namespace Quiz.Server.Play;

/// <summary>
/// /hubs/play: a thin, typed front of <see cref="RoundService"/>. Errors reach the client as
/// HubException messages "code: text" (codes in <see cref="PlayErrors"/>); the connection stays open.
/// </summary>
[Authorize(Policy = Security.Access.ParticipantPolicy)]
public sealed class PlayHub(RoundService rounds, StartLimiter limiter) : Hub<IPlayClient>
{
    private long ParticipantId => Context.User!.ParticipantId();

    public async Task<RoundView> StartRound(StartRoundRequest request)
    {
        var address = Context.GetHttpContext()?.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!limiter.TryAcquire(ParticipantId, address, out var retryAfter))
            throw new HubException($"{PlayErrors.RateLimited}: too many rounds started; wait {retryAfter} s");
        return await rounds.StartAsync(ParticipantId, request, Context.ConnectionAborted);
    }

    public Task<AnswerResult> Answer(AnswerRequest request) => rounds.AnswerAsync(ParticipantId, request);

    public Task<RoundResult> Finish(FinishRequest request) => rounds.FinishAsync(ParticipantId, request);

    /// <summary>The round in play in a campaign (after a reconnect or a page reload), or null.</summary>
    public Task<RoundView?> CurrentRound(string campaignId) => rounds.CurrentAsync(ParticipantId, campaignId);
}

/// <summary>
/// Makes each call's <see cref="PlayHub"/> from the singletons it takes, as
/// <see cref="Live.LiveHubActivator"/> does: SignalR's own activator is a scoped service, resolved
/// into a dictionary of every call's scope, on the path every answer takes.
/// </summary>
public sealed class PlayHubActivator(RoundService rounds, StartLimiter limiter) : IHubActivator<PlayHub>
{
    public PlayHub Create() => new(rounds, limiter);
    public void Release(PlayHub hub) => hub.Dispose();
}

/// <summary>Per-participant and per-address limits on starting rounds: fixed windows of a minute.</summary>
public sealed class StartLimiter(IOptions<RateLimitOptions> options, TimeProvider clock)
{
    private readonly FixedWindows<long> _byParticipant = new(options.Value.RoundStartsPerMinutePerParticipant, TimeSpan.FromMinutes(1), clock);
    private readonly FixedWindows<string> _byAddress = new(options.Value.RoundStartsPerMinutePerAddress, TimeSpan.FromMinutes(1), clock);

    /// <param name="retryAfterSeconds">When refused: how long to wait, in whole seconds, as a 429's Retry-After says.</param>
    public bool TryAcquire(long participantId, string address, out int retryAfterSeconds) =>
        _byParticipant.TryAcquire(participantId, out retryAfterSeconds) && _byAddress.TryAcquire(address, out retryAfterSeconds);
}
