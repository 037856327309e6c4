using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Quiz.Server.Hosting;
using Quiz.Server.Participants;

namespace Quiz.Server.Live;

/// <summary>
/// /hubs/live: hosts (staff cookie) and audience (guests, or participants by their token) of live
/// sessions, a thin front of <see cref="LiveRooms"/>. Errors are "code: text" HubExceptions
/// (docs/live.md, section 5); the connection stays open.
/// </summary>
public sealed class LiveHub(LiveRooms rooms, JoinLimiter limiter) : Hub<ILiveClient>
{
    private const string Joined = "live.joined";

    private string Origin
    {
        get
        {
            var request = Context.GetHttpContext()?.Request;
            return request is null ? "" : $"{request.Scheme}://{request.Host}";
        }
    }

    public Task<LiveHostView> Host(string sessionId) => OwnedAsync(async () =>
    {
        var room = await HostedAsync(sessionId);
        await Groups.AddToGroupAsync(Context.ConnectionId, LiveRooms.Everyone(room.Id));
        await Groups.AddToGroupAsync(Context.ConnectionId, LiveRooms.Hosts(room.Id));
        return rooms.HostView(room, Origin);
    });

    public Task<LiveHostView> Command(string sessionId, string action) => OwnedAsync(async () =>
    {
        var room = await HostedAsync(sessionId);
        if (await rooms.CommandAsync(room, action) is { } error)
            throw error.StartsWith(LiveErrors.InvalidRequest, StringComparison.Ordinal) ? new HubException(error) : LiveErrors.Error(LiveErrors.WrongPhase, error);
        return rooms.HostView(room, Origin);
    });

    /// <summary>
    /// A call whose write was fenced off (another node took the session since this node loaded it)
    /// runs once more on the session loaded afresh from the store, which this node then owns.
    /// </summary>
    private async Task<T> OwnedAsync<T>(Func<Task<T>> call)
    {
        try { return await call(); }
        catch (LiveStore.MovedException moved)
        {
            rooms.Forget(moved.SessionId);
            return await call();
        }
    }

    private async Task<LiveRoom> HostedAsync(string? sessionId)
    {
        var user = Context.User ?? new ClaimsPrincipal();
        if (string.IsNullOrEmpty(sessionId) || await rooms.RoomAsync(sessionId) is not { } room)
            throw LiveErrors.Error(LiveErrors.SessionNotFound, "no such session");
        if (!rooms.MayHost(user, room)) throw LiveErrors.Error(LiveErrors.NotHost, "log in as staff allowed to run this session");
        return room;
    }

    public async Task<LiveJoined> Join(LiveJoinRequest request)
    {
        if (request is null) throw LiveErrors.Error(LiveErrors.InvalidRequest, "send { code, nickname, regionCode } or { code, rejoinKey }");
        var address = Context.GetHttpContext()?.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        // Counted once, outside the retry after a hand-over.
        if (!limiter.TryAcquire(address)) throw LiveErrors.Error(LiveErrors.RateLimited, "too many joins from this address; try again in a second");
        return await OwnedAsync(() => JoinAsync(request));
    }

    private async Task<LiveJoined> JoinAsync(LiveJoinRequest request)
    {
        long? participant = Context.User?.Identity?.AuthenticationType == Security.Access.Schemes.Participant ? Context.User.ParticipantId() : null;
        var (code, error, room, player) = await rooms.JoinAsync(request, participant, Context.ConnectionAborted);
        if (code is not null) throw LiveErrors.Error(code, error!);
        room!.Connected(player!, Context.ConnectionId);
        Context.Items[Joined] = (room.Id, player!.Id);
        await Groups.AddToGroupAsync(Context.ConnectionId, LiveRooms.Everyone(room.Id));
        return new LiveJoined(room.Id, player!.Id, player.RejoinKey!, player.Nickname, room.Row.Title, room.Phase, room.OpenQuestion(), room.YouOf(player));
    }

    /// <remarks>
    /// Written without <see cref="OwnedAsync{T}"/>'s closure: a room's 10,000 phones answer within
    /// seconds, and the closures and state machines of each call were a fifth of what a question
    /// allocated. A fenced-off write is retried the same way.
    /// </remarks>
    public async Task<LiveAnswerAck> Answer(LiveAnswerRequest request)
    {
        if (request is null) throw LiveErrors.Error(LiveErrors.InvalidRequest, "send { sessionId, index, choices }");
        if (Context.Items[Joined] is not (string sessionId, long playerId)) throw LiveErrors.Error(LiveErrors.NotJoined, "join a session first");
        if (request.SessionId != sessionId) throw LiveErrors.Error(LiveErrors.WrongSession, "this connection joined another session");
        try { return await AnswerInAsync(sessionId, playerId, request); }
        catch (LiveStore.MovedException moved)
        {
            rooms.Forget(moved.SessionId);
            return await AnswerInAsync(sessionId, playerId, request);
        }
    }

    private async ValueTask<LiveAnswerAck> AnswerInAsync(string sessionId, long playerId, LiveAnswerRequest request)
    {
        var room = await rooms.RoomAsync(sessionId) ?? throw LiveErrors.Error(LiveErrors.SessionNotFound, "no such session");
        var (code, error, ack) = await rooms.AnswerAsync(room, playerId, request);
        return code is null ? ack! : throw LiveErrors.Error(code, error!);
    }

    /// <remarks>A disconnect never takes a room over: only the node that runs it keeps connections.</remarks>
    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items[Joined] is (string sessionId, long playerId) && rooms.Loaded(sessionId) is { } room)
            room.Disconnected(playerId, Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }
}

/// <summary>
/// Makes each call's <see cref="LiveHub"/> from the singletons it takes. SignalR's own activator
/// is a scoped service, and resolving it filled a dictionary in every call's scope: with a room's
/// 10,000 phones answering at once, a twelfth of what a question allocated.
/// </summary>
public sealed class LiveHubActivator(LiveRooms rooms, JoinLimiter limiter) : IHubActivator<LiveHub>
{
    public LiveHub Create() => new(rooms, limiter);
    public void Release(LiveHub hub) => hub.Dispose();
}

/// <summary>Section "Live": the joins one address may make, a token bucket per address.</summary>
public sealed record LiveOptions
{
    public const string Section = "Live";
    public int JoinsPerSecondPerAddress { get; init; } = 20;

    /// <summary>No garbage collection while a question goes out to a room (<see cref="Live.QuietFanout"/>).</summary>
    public bool QuietFanout { get; init; } = true;

    public void Validate()
    {
        if (JoinsPerSecondPerAddress < 1) throw new ArgumentException("Live:JoinsPerSecondPerAddress must be at least 1.");
    }
}

/// <summary>
/// Joins per address: a venue's Wi-Fi puts many phones behind one address, so the limit is a rate
/// with bursts of twice that, not a small fixed count; a script joining 100 a second is refused.
/// </summary>
public sealed class JoinLimiter(IOptions<LiveOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _byAddress = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 2 * options.Value.JoinsPerSecondPerAddress,
            TokensPerPeriod = options.Value.JoinsPerSecondPerAddress,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));

    public bool TryAcquire(string address)
    {
        using var lease = _byAddress.AttemptAcquireRetried(address);
        return lease.IsAcquired;
    }

    public void Dispose() => _byAddress.Dispose();
}
