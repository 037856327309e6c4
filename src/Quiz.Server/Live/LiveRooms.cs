using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Quiz.Server.Dashboard;
using Quiz.Server.Participants;
using Quiz.Server.Questions;
using Quiz.Server.Security;
using Quiz.Server.Units;

namespace Quiz.Server.Live;

/// <summary>
/// The sessions this node runs: each loaded once from the store into a <see cref="LiveRoom"/>
/// (a session whose node died is taken over from the store by the next call that names it), its
/// decisions written to the store, then pushed to its SignalR group. One node owns a session at a
/// time: several nodes need a session's calls routed to one of them (left to the scale-out work;
/// docs/live.md, section 3).
/// </summary>
public sealed class LiveRooms(
    LiveStore store, QuestionBank bank, UnitDirectory units, UnitScope scope, ParticipantRegistry participants,
    IHubContext<LiveHub, ILiveClient> hub, QuietFanout quiet, TimeProvider clock, ILogger<LiveRooms> logger)
{
    public static string Everyone(string sessionId) => $"live:{sessionId}";
    public static string Hosts(string sessionId) => $"live-host:{sessionId}";

    private readonly ConcurrentDictionary<string, Lazy<Task<LiveRoom?>>> _rooms = new();
    private readonly ConcurrentDictionary<string, (Throttle Audience, Throttle Answered)> _throttles = new();

    // ---- Creating

    public async Task<(LiveSessionView? View, Dictionary<string, string[]> Errors, bool Forbidden)> CreateAsync(
        CreateLiveSession request, ClaimsPrincipal user, string origin, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string text) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], text];

        var title = request.Title?.Trim() ?? "";
        if (title.Length is < 1 or > 60) Error("title", "a title of 1 to 60 characters is required");
        var unitCode = string.IsNullOrWhiteSpace(request.UnitCode) ? UnitScope.UnitOf(user) : request.UnitCode.Trim();
        if (unitCode == "") unitCode = null;
        if (unitCode is not null && units.Region(unitCode) is null && units.Organisation(unitCode) is null) Error("unitCode", "no unit with this code");
        else if (!scope.Allows(user, unitCode)) return (null, errors, true);

        var questions = await PickAsync(request.Questions, Error, ct);
        var rounds = request.Rounds ?? [];
        if (rounds.Count is < 1 or > 10) Error("rounds", "1 to 10 rounds are required");
        else if (rounds.Any(r => r.Questions < 1 || !Enum.IsDefined(r.Kind))) Error("rounds", "each round has a kind (must-answer or buzz) and at least one question");
        else if (questions is not null && rounds.Sum(r => r.Questions) != questions.Count)
            Error("rounds", $"the rounds' questions add up to {rounds.Sum(r => r.Questions)}, not to the {questions.Count} questions");
        var seconds = request.QuestionSeconds ?? 20;
        if (seconds is < 5 or > 120) Error("questionSeconds", "5 to 120 seconds");
        var speed = request.Speed ?? new SpeedRule();
        if (speed.Points is < 1 or > 10_000) Error("speed.points", "1 to 10,000 points");
        if (double.IsNaN(speed.MinShare) || speed.MinShare is < 0 or > 1) Error("speed.minShare", "a share from 0 to 1");
        if (errors.Count > 0 || questions is null) return (null, errors, false);

        var definition = new LiveStore.Definition([.. questions.Select(q => new LiveStore.QuestionRef(q.Question.Id, q.Version))], [.. rounds], seconds, speed);
        string code;
        do code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6");
        while (await store.CodeInUseAsync(code, ct));
        var row = new LiveStore.SessionRow(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), code, title, unitCode,
            user.Identity?.Name ?? "admin-key", clock.GetUtcNow().ToString("O"), JsonSerializer.Serialize(definition, LiveStore.Json),
            LiveStore.Name(LivePhase.Lobby), null);
        await store.CreateAsync(row, ct);
        // Seen, not run: the node the room's connections reach (by its code) runs it from their first call.
        var room = await ViewAsync(row.Id, ct);
        return (View(room!, origin), errors, false);
    }

    private async Task<List<StoredQuestion>?> PickAsync(LiveQuestionSource? source, Action<string, string> error, CancellationToken ct)
    {
        if (source is null) { error("questions", "name the questions: { ids } or { track, count }"); return null; }
        if (source.Ids is { } ids)
        {
            if (ids.Count is < 1 or > 50) { error("questions.ids", "1 to 50 question ids"); return null; }
            if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count) { error("questions.ids", "a question appears twice"); return null; }
            var current = (await bank.ListAsync(ct: ct)).ToDictionary(q => q.Question.Id, StringComparer.Ordinal);
            var missing = ids.Where(id => !current.ContainsKey(id)).ToList();
            if (missing.Count > 0) { error("questions.ids", $"not in the bank: {string.Join(", ", missing.Take(10))}"); return null; }
            return [.. ids.Select(id => current[id])];
        }
        if (source.Track is not { } track || !Tracks.All.Contains(track)) { error("questions.track", $"one of {string.Join(", ", Tracks.All)}, or give ids"); return null; }
        if (source.Count is not (>= 1 and <= 50) || source.Count is not { } count) { error("questions.count", "1 to 50 questions"); return null; }
        var pool = await bank.ListAsync(track, string.IsNullOrWhiteSpace(source.Category) ? null : source.Category, ct: ct);
        if (pool.Count < count) { error("questions.count", $"the bank has {pool.Count} such questions"); return null; }
        return [.. pool.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).Take(count)];
    }

    // ---- Finding

    /// <summary>
    /// The running room of a session, for the hub's calls: loaded (or taken over) from the store on
    /// first use, which makes this node its owner (<see cref="LiveStore.ClaimAsync"/>).
    /// </summary>
    public Task<LiveRoom?> RoomAsync(string id, CancellationToken ct = default) =>
        // A room this node runs is found without a closure, a state machine or a task of its own:
        // every answer of a 10,000-phone room comes through here.
        _rooms.TryGetValue(id, out var lazy) && Loaded(lazy) is not null ? lazy.Value : LoadOrWaitAsync(id, ct);

    private async Task<LiveRoom?> LoadOrWaitAsync(string id, CancellationToken ct)
    {
        var lazy = _rooms.GetOrAdd(id, key => new Lazy<Task<LiveRoom?>>(() => LoadAsync(key, claim: true)));
        var room = await lazy.Value.WaitAsync(ct);
        if (room is null) _rooms.TryRemove(new KeyValuePair<string, Lazy<Task<LiveRoom?>>>(id, lazy));
        return room;
    }

    /// <summary>The room if this node runs it, else null: for what must not take a room over (a disconnect).</summary>
    public LiveRoom? Loaded(string id) => _rooms.TryGetValue(id, out var lazy) ? Loaded(lazy) : null;

    private static LiveRoom? Loaded(Lazy<Task<LiveRoom?>> lazy) =>
        lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully ? lazy.Value.Result : null;

    /// <summary>
    /// A session to show over HTTP (lists, reports, the code lookup): the running room if this node
    /// runs it, else a copy read from the store that this node neither keeps nor owns. Plain HTTP
    /// reaches any node; taking the room there would pull it away from the node its phones reach.
    /// </summary>
    public async Task<LiveRoom?> ViewAsync(string id, CancellationToken ct = default) =>
        Loaded(id) ?? await LoadAsync(id, claim: false).WaitAsync(ct);

    private async Task<LiveRoom?> LoadAsync(string id, bool claim)
    {
        if (await store.GetAsync(id) is not { } row) return null;
        var rules = row.Rules;
        var questions = new List<StoredQuestion>();
        foreach (var q in rules.Questions)
            questions.Add(await bank.GetVersionAsync(q.Id, q.Version) ?? throw new InvalidOperationException($"question {q.Id} v{q.Version} of live session {id} is gone"));
        // Ours from here on: a node that ran it before writes nothing more of it (LiveStore.FenceAsync).
        // A copy only to show has owner 0, which no write can pass.
        var room = new LiveRoom(row, questions, clock) { Owner = claim ? await store.ClaimAsync(id) : 0 };
        if (claim) logger.LogInformation("Live session {Session} runs on this node (owner {Owner})", id, room.Owner);
        var (players, played, answers) = await store.PlayedAsync(id);
        if (players.Count > 0 || played.Count > 0)
        {
            room.Restore([.. players.Select(p => new LiveRoom.Player(p.Id, p.Nickname, p.RegionCode, p.RegionCode is null ? null : units.Region(p.RegionCode)?.Name, p.ParticipantId) { RejoinHash = p.RejoinHash })],
                played, answers, keepPhase: !claim);
            if (claim) logger.LogInformation("Live session {Session} taken over from the store: {Players} players, {Questions} questions played", id, players.Count, played.Count);
        }
        return room;
    }

    /// <summary>
    /// Drops this node's copy of a session another node has taken (its write was fenced off): the
    /// next call loads it again from the store and takes it back, as a balancer that sends the
    /// room here again means. What the copy held beyond the store (answers to the open question)
    /// was never acknowledged as written.
    /// </summary>
    public void Forget(string sessionId)
    {
        if (_rooms.TryRemove(sessionId, out var lazy) && Loaded(lazy) is { } room)
        {
            room.DeadlineTimer?.Dispose();
            logger.LogWarning("Live session {Session} is run by another node now; this node's copy (owner {Owner}) is dropped", sessionId, room.Owner);
        }
    }

    /// <param name="run">Run the room here (a join), or only show it (the code lookup over HTTP).</param>
    public async Task<LiveRoom?> ByCodeAsync(string? code, bool run, CancellationToken ct = default)
    {
        if (code is not { Length: 6 } || !code.All(char.IsAsciiDigit)) return null;
        if (Running(code) is { } running) return running;
        return await store.ByCodeAsync(code, ct) is { } row ? run ? await RoomAsync(row.Id, ct) : await ViewAsync(row.Id, ct) : null;
    }

    /// <summary>
    /// The room this node runs under a code, without the store. A room fills with hundreds of joins
    /// a second, and a read of the store (synchronous under SQLite's async API) on each held a pool
    /// thread: the pool added ~100 threads while 10,000 phones joined, and the first questions went
    /// out across all of them. While this node owns the room its copy is the truth: only the owner
    /// ends a session, and a join on a copy another node has taken is fenced off and retried.
    /// </summary>
    private LiveRoom? Running(string code)
    {
        foreach (var (_, lazy) in _rooms)
            if (Loaded(lazy) is { } room && room.Row.Code == code && room.Phase != LivePhase.Ended)
                return room;
        return null;
    }

    public bool MayHost(ClaimsPrincipal user, LiveRoom room) =>
        user.IsInRole(Roles.Admin)
        || user.IsInRole(Roles.UnitStaff) && (room.Row.CreatedBy == user.Identity?.Name || room.Row.UnitCode is { } unit && scope.Allows(user, unit));

    public LiveSessionView View(LiveRoom room, string origin) => new(room.Id, room.Row.Code, room.Row.Title, room.Row.UnitCode, UnitName(room.Row.UnitCode),
        room.Row.CreatedBy, DateTimeOffset.Parse(room.Row.CreatedAt, System.Globalization.CultureInfo.InvariantCulture), room.Phase,
        room.Questions.Count, room.Rules.Rounds, room.Rules.QuestionSeconds, room.Rules.Speed, room.Audience, $"{origin}/live?code={room.Row.Code}");

    public string? UnitName(string? code) => code is null ? null : units.Region(code)?.Name ?? units.Organisation(code)?.Name;

    public LiveHostView HostView(LiveRoom room, string origin) => new(View(room, origin), room.Phase, room.Index, room.HostQuestion(), room.Answered,
        room.Phase == LivePhase.Revealed ? room.Distribution : [], room.Phase is LivePhase.Revealed or LivePhase.Ended ? room.Top : [],
        room.Skipped, room.Phase == LivePhase.Revealed ? room.BuzzWinnerStanding : null, room.Podium);

    // ---- The host's commands

    public async Task<string?> CommandAsync(LiveRoom room, string? action)
    {
        var everyone = hub.Clients.Group(Everyone(room.Id));
        switch (action)
        {
            case "show":
            {
                var (error, shown) = room.Show();
                if (error is not null) return error;
                // Phones first: the phase in the store is for lists and take-overs, not for the question.
                ArmDeadline(room);
                quiet.Hold();
                var started = Stopwatch.GetTimestamp();
                await everyone.LiveQuestion(shown!);
                logger.LogInformation("Question {Index} of live session {Session} shown: queued to {Audience} phones in {PushedMs:F0} ms",
                    room.Index, room.Id, room.Audience, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                await store.SetPhaseAsync(room.Id, room.Owner, LivePhase.Open, clock.GetUtcNow());
                return null;
            }
            case "pause":
            {
                var (error, paused) = room.Pause();
                if (error is not null) return error;
                await everyone.LivePaused(paused!);
                await store.SetPhaseAsync(room.Id, room.Owner, LivePhase.Paused, clock.GetUtcNow());
                return null;
            }
            case "resume":
            {
                var (error, resumed) = room.Resume();
                if (error is not null) return error;
                ArmDeadline(room);
                quiet.Hold();
                await everyone.LiveQuestion(resumed!);
                await store.SetPhaseAsync(room.Id, room.Owner, LivePhase.Open, clock.GetUtcNow());
                return null;
            }
            case "close":
            {
                var (error, closed) = room.Close();
                if (error is not null) return error;
                await ClosedAsync(room, closed!);
                return null;
            }
            case "reveal" or "skip":
            {
                var (error, revealed) = room.Reveal(skip: action == "skip");
                if (error is not null) return error;
                // In the store before anyone is told: an export never lacks what a phone was shown.
                var started = Stopwatch.GetTimestamp();
                await store.SaveQuestionAsync(room.Id, room.Owner, revealed!.Question, revealed.Answers);
                await store.SetPhaseAsync(room.Id, room.Owner, LivePhase.Revealed, clock.GetUtcNow());
                var stored = Stopwatch.GetElapsedTime(started);
                // Each phone one message with its own result in it, not the room's reveal and then its
                // result: 10,000 frames fewer to write (and for phones to read) at the room's busiest moment.
                await hub.Clients.Group(Hosts(room.Id)).LiveReveal(revealed.Message);
                var results = room.TakeResults(out var phones);
                try
                {
                    // A send that is not done at once is one whose phone reads slowly; only those are
                    // awaited (a task array for all 10,000 would be a large object every reveal).
                    List<Task>? pending = null;
                    for (var i = 0; i < phones; i++)
                    {
                        var sent = hub.Clients.Client(results[i].ConnectionId).LiveReveal(revealed.Message with { You = results[i].You });
                        if (!sent.IsCompletedSuccessfully) (pending ??= []).Add(sent);
                    }
                    if (pending is not null) await Task.WhenAll(pending);
                }
                finally { room.GiveBackResults(results); }
                logger.LogInformation("Question {Index} of live session {Session} revealed: {Answers} answers stored in {StoredMs:F0} ms, then pushed to {Phones} phones in {PushedMs:F0} ms",
                    room.Index, room.Id, revealed.Answers.Count, stored.TotalMilliseconds, phones, (Stopwatch.GetElapsedTime(started) - stored).TotalMilliseconds);
                return null;
            }
            case "end":
            {
                var (error, ended) = room.End();
                if (error is not null) return error;
                room.DeadlineTimer?.Dispose();
                await store.SetPhaseAsync(room.Id, room.Owner, LivePhase.Ended, clock.GetUtcNow());
                await everyone.LiveEnded(ended!);
                return null;
            }
            default:
                return $"{LiveErrors.InvalidRequest}: unknown action '{action}' (show, close, reveal, pause, resume, skip, end)";
        }
    }

    private async Task ClosedAsync(LiveRoom room, LiveClosed closed)
    {
        room.DeadlineTimer?.Dispose();
        await hub.Clients.Group(Everyone(room.Id)).LiveClosed(closed);
        await store.SetPhaseAsync(room.Id, room.Owner, LivePhase.Closed, clock.GetUtcNow());
    }

    /// <summary>Closes the question at its deadline, by the server's clock (the fake one in tests).</summary>
    private void ArmDeadline(LiveRoom room)
    {
        room.DeadlineTimer?.Dispose();
        var version = room.Version;
        var due = room.Deadline - clock.GetUtcNow();
        room.DeadlineTimer = clock.CreateTimer(_ => _ = CloseAtDeadlineAsync(room, version), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private async Task CloseAtDeadlineAsync(LiveRoom room, long version)
    {
        try
        {
            var (error, closed) = room.Close(version);
            if (error is null) await ClosedAsync(room, closed!);
        }
        catch (LiveStore.MovedException)
        {
            Forget(room.Id);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Closing question {Index} of live session {Session} at its deadline failed", room.Index, room.Id);
        }
    }

    // ---- The audience

    public async Task<(string? Code, string? Error, LiveRoom? Room, LiveRoom.Player? Player)> JoinAsync(
        LiveJoinRequest request, long? participantId, CancellationToken ct)
    {
        if (await ByCodeAsync(request.Code?.Trim(), run: true, ct) is not { } room || room.Phase == LivePhase.Ended)
            return (LiveErrors.SessionNotFound, "no session is running with this code", null, null);
        if (request.RejoinKey is { Length: > 0 } key)
            return room.ByRejoinKey(key) is { } again ? (null, null, room, again) : (LiveErrors.SessionNotFound, "this rejoin key is not of this session", null, null);
        LiveRoom.Player player;
        if (participantId is { } id && !request.AsGuest)
        {
            if (room.ByParticipant(id) is { } known)
            {
                if (known.RejoinKey is null)
                {
                    // Taken over from the store, which keeps only the key's hash: a new key.
                    var fresh = LiveRoom.NewKey();
                    await store.SetRejoinHashAsync(room.Id, room.Owner, known.Id, LiveRoom.Hash(fresh));
                    room.Rekey(known, fresh);
                }
                return (null, null, room, known);
            }
            if (await participants.GetAsync(id, ct) is not { } participant) return (LiveErrors.InvalidRequest, "the participant token names nobody", null, null);
            player = room.NewPlayer(participant.Nickname, participant.RegionCode, UnitName(participant.RegionCode), id);
        }
        else
        {
            var nickname = request.Nickname?.Trim();
            if (NicknameRules.Check(nickname) is { } refused) return (LiveErrors.NicknameRefused, refused, null, null);
            if (request.RegionCode is not { } region || units.Region(region) is null) return (LiveErrors.UnknownRegion, "pick a region from the list", null, null);
            player = room.NewPlayer(nickname!, region, units.Region(region)!.Name, null);
        }
        await store.AddPlayerAsync(room.Id, room.Owner, new LiveStore.PlayerRow(player.Id, player.RejoinHash, player.Nickname, player.RegionCode, player.ParticipantId,
            clock.GetUtcNow().ToString("O")));
        room.Seat(player);
        ThrottlesOf(room).Audience.Signal();
        return (null, null, room, player);
    }

    /// <summary>An answer; completes at once (no task allocated) unless it closed a buzz question, which is stored first.</summary>
    public ValueTask<(string? Code, string? Error, LiveAnswerAck? Ack)> AnswerAsync(LiveRoom room, long playerId, LiveAnswerRequest request)
    {
        var (code, error, ack, closed) = room.Answer(playerId, request.Index, request.Choices);
        if (code is not null) return new((code, error, null));
        ThrottlesOf(room).Answered.Signal();
        return closed is null ? new((null, null, ack)) : new(ClosedThenAsync(room, closed, ack));

        async Task<(string?, string?, LiveAnswerAck?)> ClosedThenAsync(LiveRoom room, LiveClosed closed, LiveAnswerAck? ack)
        {
            await ClosedAsync(room, closed);
            return (null, null, ack);
        }
    }

    private (Throttle Audience, Throttle Answered) ThrottlesOf(LiveRoom room) =>
        // Looked up before GetOrAdd, whose closure would be made on every answer.
        _throttles.TryGetValue(room.Id, out var throttles) ? throttles : _throttles.GetOrAdd(room.Id, _ => (
        new Throttle(clock, TimeSpan.FromSeconds(1), () => AudienceAsync(room), logger),
        new Throttle(clock, TimeSpan.FromMilliseconds(250), () => hub.Clients.Group(Hosts(room.Id)).LiveAnswered(new LiveAnswered(room.Id, room.Index, room.Answered)), logger)));

    /// <summary>
    /// The audience count goes to every phone only while the room is in its lobby, where the phones
    /// show it. Once questions run it goes to the hosts alone, and a phone reads the count in each
    /// reveal (<see cref="LiveYou.Audience"/>): in a room of 10,000, a latecomer's join would
    /// otherwise be a push to all 10,000 phones each second, landing in the questions' own pushes.
    /// </summary>
    private Task AudienceAsync(LiveRoom room)
    {
        var count = new LiveAudience(room.Id, room.Audience);
        return hub.Clients.Group(room.Phase == LivePhase.Lobby ? Everyone(room.Id) : Hosts(room.Id)).LiveAudience(count);
    }

    /// <summary>
    /// At most one push an interval, and always one after the last change: a room of 10,000 phones
    /// joining is one count a second, not 10,000 messages to each of them.
    /// </summary>
    private sealed class Throttle(TimeProvider clock, TimeSpan interval, Func<Task> push, ILogger logger)
    {
        private int _scheduled;
        private long _last = long.MinValue;

        public void Signal()
        {
            if (Interlocked.Exchange(ref _scheduled, 1) == 1) return;
            var last = Interlocked.Read(ref _last);
            var due = last == long.MinValue ? TimeSpan.Zero : interval - clock.GetElapsedTime(last);
            if (due <= TimeSpan.Zero) _ = RunAsync(null);
            else
            {
                ITimer? timer = null;
                timer = clock.CreateTimer(_ => _ = RunAsync(timer), null, due, Timeout.InfiniteTimeSpan);
            }
        }

        private async Task RunAsync(ITimer? timer)
        {
            timer?.Dispose();
            Interlocked.Exchange(ref _last, clock.GetTimestamp());
            Interlocked.Exchange(ref _scheduled, 0);
            try { await push(); }
            catch (Exception e) { logger.LogWarning(e, "A live push failed"); }
        }
    }
}
