using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Quiz.Server.Live;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Live;

/// <summary>
/// Live sessions end to end over real sockets (docs/live.md): a host and phones on /hubs/live, the
/// fake clock deciding every moment, and what the store keeps checked against what phones were told.
/// </summary>
/// <remarks>
/// One seeded server for the class: each test runs sessions of its own, with staff of its own. The
/// tests that count across sessions or restart on the store have servers of their own.
/// </remarks>
public sealed class LiveSessionTests(LiveSessionTests.Server server) : IClassFixture<LiveSessionTests.Server>, IAsyncLifetime
{
    public sealed class Server : IAsyncLifetime
    {
        public QuizApplication App { get; } = new(kestrel: true);
        public Task InitializeAsync() => PlayWorld.SeedAsync(App);
        public Task DisposeAsync()
        {
            App.Dispose();
            return Task.CompletedTask;
        }
    }

    private QuizApplication _app = server.App;
    private readonly List<HubConnection> _connections = [];
    private QuizApplication? _own;

    /// <summary>A server of this test's own, for the tests that count across sessions or restart on the store.</summary>
    private async Task OwnServerAsync()
    {
        _app = _own = new QuizApplication(kestrel: true);
        await PlayWorld.SeedAsync(_own);
    }

    // PlayWorld's general track: GEN-00 single (B), GEN-01 multiple (B and D), GEN-02 true/false (A).
    private static readonly object Definition = new
    {
        title = "合肥市现场竞赛",
        unitCode = PlayWorld.City,
        questions = new { ids = new[] { "GEN-00", "GEN-01", "GEN-02" } },
        rounds = new object[] { new { kind = "must-answer", questions = 2 }, new { kind = "buzz", questions = 1 } },
        questionSeconds = 20,
        speed = new { points = 1000, minShare = 0.5 },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
        _own?.Dispose();
    }

    private HubConnection Hub(System.Net.CookieContainer? cookies = null, string? token = null)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_app.ServerAddress, "/hubs/live"), o =>
            {
                if (cookies is not null) o.Cookies = cookies;
                if (token is not null) o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(Quiz.Server.Hosting.JsonEnums.Converter()))
            .Build();
        _connections.Add(connection);
        return connection;
    }

    private async Task<HubConnection> StartedAsync()
    {
        var hub = Hub();
        await hub.StartAsync();
        return hub;
    }

    private async Task<System.Net.CookieContainer> StaffCookiesAsync(string name, string role, string? unit)
    {
        await Staff.CreateAsync(_app, name, role, unit);
        var cookies = new System.Net.CookieContainer();
        using var http = new HttpClient { BaseAddress = _app.ServerAddress };
        using var login = await http.PostAsJsonAsync("/api/accounts/login", new { name, password = Staff.Password });
        login.EnsureSuccessStatusCode();
        foreach (var header in login.Headers.GetValues("Set-Cookie")) cookies.SetCookies(_app.ServerAddress, header);
        return cookies;
    }

    private async Task<LiveSessionView> CreateAsync(object? definition = null)
    {
        using var admin = _app.CreateAdminClient();
        using var response = await admin.PostAsJsonAsync("/api/live/sessions", definition ?? Definition);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<LiveSessionView>(Json))!;
    }

    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    { Converters = { Quiz.Server.Hosting.JsonEnums.Converter() } };

    /// <summary>A phone that has joined, and everything pushed to it.</summary>
    private sealed class Phone(HubConnection hub, LiveJoined joined)
    {
        public HubConnection Hub { get; } = hub;
        public LiveJoined Joined { get; set; } = joined;
        public ConcurrentQueue<LiveQuestion> Questions { get; } = new();
        public ConcurrentQueue<LiveYou> Results { get; } = new();
        public ConcurrentQueue<LiveReveal> Reveals { get; } = new();
        public ConcurrentQueue<LiveClosed> Closed { get; } = new();
        public ConcurrentQueue<LiveEnded> Ended { get; } = new();

        public Task<LiveAnswerAck> AnswerAsync(int index, params int[] choices) =>
            Hub.InvokeAsync<LiveAnswerAck>("Answer", new LiveAnswerRequest(Joined.SessionId, index, choices));
    }

    private async Task<Phone> JoinAsync(string code, string nickname, string region = PlayWorld.County, string? token = null)
    {
        var hub = Hub(token: token);
        Phone? phone = null;
        var early = new Phone(hub, null!);
        hub.On<LiveQuestion>("LiveQuestion", q => early.Questions.Enqueue(q));
        hub.On<LiveReveal>("LiveReveal", r =>
        {
            early.Results.Enqueue(r.You!); // a phone's reveal carries its own result
            early.Reveals.Enqueue(r);
        });
        hub.On<LiveClosed>("LiveClosed", c => early.Closed.Enqueue(c));
        hub.On<LiveEnded>("LiveEnded", e => early.Ended.Enqueue(e));
        await hub.StartAsync();
        early.Joined = await hub.InvokeAsync<LiveJoined>("Join", new LiveJoinRequest(code, nickname, region, null));
        phone = early;
        return phone;
    }

    private static async Task<T> Next<T>(ConcurrentQueue<T> queue, int count = 1)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (queue.Count < count && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);
        Assert.True(queue.Count >= count, $"{typeof(T).Name}: {queue.Count} of {count} pushed");
        return queue.ElementAt(count - 1);
    }

    private static string ErrorCode(HubException e)
    {
        const string marker = "HubException: ";
        var at = e.Message.IndexOf(marker, StringComparison.Ordinal);
        return (at < 0 ? e.Message : e.Message[(at + marker.Length)..]).Split(':')[0];
    }

    private static async Task<string> RefusedAsync(Func<Task> call) => ErrorCode(await Assert.ThrowsAsync<HubException>(call));

    [Fact]
    public void AnAnswerIsReadAsTheDefaultConverterWouldReadIt()
    {
        var options = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { Converters = { new LiveAnswerRequestJson() } };
        LiveAnswerRequest? Read(string json) => System.Text.Json.JsonSerializer.Deserialize<LiveAnswerRequest>(json, options);

        var read = Read("""{"SessionId":"s1","INDEX":2,"extra":{"a":[1,{"b":null}]},"choices":[3,1,2,0,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}""")!;
        Assert.Equal(("s1", 2), (read.SessionId, read.Index));
        Assert.Equal([3, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17], read.Choices!);
        Assert.Equal((null, 0, null), Read("""{"sessionId":null,"choices":null}""") is { } r ? (r.SessionId, r.Index, r.Choices) : default);
        Assert.Null(Read("null"));
        foreach (var wrong in new[] { "[]", """{"index":"1"}""", """{"choices":"B"}""", """{"choices":[1.5]}""", """{"sessionId":1}""" })
            Assert.ThrowsAny<Exception>(() => Read(wrong));
        var again = Read(System.Text.Json.JsonSerializer.Serialize(new LiveAnswerRequest("s2", 1, [2]), options))!;
        Assert.Equal(("s2", 1, 2), (again.SessionId, again.Index, again.Choices!.Single()));
        // The hub reads answers with it (the OpenAPI document keeps describing the type itself).
        Assert.Contains(_app.Service<Microsoft.Extensions.Options.IOptions<JsonHubProtocolOptions>>().Value.PayloadSerializerOptions.Converters, c => c is LiveAnswerRequestJson);
    }

    [Fact]
    public async Task AHostAndThreePhonesPlayBothRoundKindsAndTheStoreKeepsWhatTheyWereTold()
    {
        var session = await CreateAsync();
        Assert.Matches("^[0-9]{6}$", session.Code);
        Assert.Equal($"{_app.ServerAddress.ToString().TrimEnd('/')}/live?code={session.Code}", session.JoinUrl);
        var host = Hub(await StaffCookiesAsync("hefei-host", Quiz.Server.Security.Roles.UnitStaff, PlayWorld.City));
        var answered = new ConcurrentQueue<LiveAnswered>();
        host.On<LiveAnswered>("LiveAnswered", a => answered.Enqueue(a));
        var hostReveals = new ConcurrentQueue<LiveReveal>();
        host.On<LiveReveal>("LiveReveal", r => hostReveals.Enqueue(r));
        await host.StartAsync();
        var lobby = await host.InvokeAsync<LiveHostView>("Host", session.Id);
        Assert.Equal((LivePhase.Lobby, -1, 0), (lobby.Phase, lobby.Index, lobby.Session.Audience));

        var registered = await PlayWorld.RegisterAsync(_app, region: PlayWorld.OtherCounty);
        var a = await JoinAsync(session.Code, "甲");
        var b = await JoinAsync(session.Code, "乙", PlayWorld.City);
        var c = await JoinAsync(session.Code, "ignored", token: registered.Token);
        Assert.Equal(registered.Participant.Nickname, c.Joined.Nickname); // a participant plays as registered
        Assert.Equal(3, (await host.InvokeAsync<LiveHostView>("Host", session.Id)).Session.Audience);

        // Question 0, must answer: a right at 4 s, b right at 10 s, c wrong.
        var shown = await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        Assert.Equal((LivePhase.Open, 0), (shown.Phase, shown.Index));
        Assert.Equal([1], shown.Question!.Key);
        var q0 = await Next(a.Questions);
        Assert.Equal((0, 3, LiveRoundKind.MustAnswer, 20_000L), (q0.Index, q0.Count, q0.Kind, q0.RemainingMs));
        _app.Clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(4_000, (await a.AnswerAsync(0, 1)).ElapsedMs);
        _app.Clock.Advance(TimeSpan.FromSeconds(6));
        await b.AnswerAsync(0, 1);
        await c.AnswerAsync(0, 0);
        Assert.Equal("already-answered", await RefusedAsync(() => a.AnswerAsync(0, 0)));
        Assert.Equal("invalid-request", await RefusedAsync(() => b.AnswerAsync(0, 1, 2))); // two options on a single-choice question
        // Hostile answers: an option twice, one the question lacks, none at all, a payload of the wrong shape.
        foreach (var choices in new[] { new[] { 1, 1 }, [9], [-1], [] })
            Assert.Equal("invalid-request", await RefusedAsync(() => c.AnswerAsync(0, choices)));
        var malformed = await Assert.ThrowsAsync<HubException>(() =>
            c.Hub.InvokeAsync<LiveAnswerAck>("Answer", new { sessionId = c.Joined.SessionId, index = 0, choices = "B" }));
        Assert.StartsWith("Failed to invoke 'Answer'", malformed.Message); // and the connection goes on (c plays on below)
        Assert.Equal(3, (await host.InvokeAsync<LiveHostView>("Host", session.Id)).Answered);
        Assert.True((await Next(answered)).Index == 0); // the host's count of answers is pushed

        // The deadline closes it by the server's clock; a late answer is refused.
        _app.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, (await Next(a.Closed)).Index);
        var late = await JoinAsync(session.Code, "迟到");
        Assert.Equal("question-closed", await RefusedAsync(() => late.AnswerAsync(0, 1)));

        var revealed = await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        // 1000 × (1 − 0.5 × 4/20) = 900; 1000 × (1 − 0.5 × 10/20) = 750.
        Assert.Equal([1, 2, 0, 0], revealed.Distribution);
        Assert.Equal([("甲", 1, 900), ("乙", 2, 750)], revealed.Top.Take(2).Select(s => (s.Nickname, s.Place, s.Points)));
        Assert.All(revealed.Top.Skip(2), s => Assert.Equal((3, 0), (s.Place, s.Points)));
        Assert.Equal(new LiveYou(0, true, true, 900, 900, 1, 4), await Next(a.Results));
        Assert.Equal(new LiveYou(0, true, false, 0, 0, 3, 4), await Next(c.Results));
        Assert.Equal(new LiveYou(0, false, false, 0, 0, 3, 4), await Next(late.Results));
        // The projector gets the same reveal, once, without anyone's own result.
        var toHost = await Next(hostReveals);
        var toPhone = await Next(a.Reveals);
        Assert.Equal((0, null, toPhone.Explanation), (toHost.Index, toHost.You, toHost.Explanation));
        Assert.Equal(revealed.Distribution, toHost.Distribution);
        Assert.Equal(toPhone.Distribution, toHost.Distribution);
        Assert.Single(hostReveals);

        // Question 1, must answer, multiple choice: the host closes it early; b right at 2 s.
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await Next(b.Questions, 2);
        _app.Clock.Advance(TimeSpan.FromSeconds(2));
        await b.AnswerAsync(1, 3, 1);
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "close");
        Assert.Equal("question-closed", await RefusedAsync(() => a.AnswerAsync(1, 1, 3)));
        Assert.Equal("wrong-phase", await RefusedAsync(() => host.InvokeAsync<LiveHostView>("Command", session.Id, "show")));
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        Assert.Equal(new LiveYou(1, true, true, 950, 1700, 1, 4), await Next(b.Results, 2));
        Assert.Equal(new LiveYou(1, false, false, 0, 900, 2, 4), await Next(a.Results, 2));

        // Question 2, buzz: c's wrong buzz comes first, then a's right one wins and closes it; b is too late.
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await Next(c.Questions, 3);
        _app.Clock.Advance(TimeSpan.FromSeconds(1));
        await c.AnswerAsync(2, 1);
        await a.AnswerAsync(2, 0);
        Assert.Equal("question-closed", await RefusedAsync(() => b.AnswerAsync(2, 0)));
        var buzz = await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        var reveal = await Next(b.Reveals, 3);
        Assert.Equal(("甲", 1900), (reveal.BuzzWinner!.Nickname, reveal.BuzzWinner.Points));
        Assert.Equal(reveal.BuzzWinner, (await host.InvokeAsync<LiveHostView>("Host", session.Id)).BuzzWinner); // a reloaded projector names them too
        Assert.Equal([("甲", 1, 1900), ("乙", 2, 1700)], buzz.Top.Take(2).Select(s => (s.Nickname, s.Place, s.Points)));

        var ended = await host.InvokeAsync<LiveHostView>("Command", session.Id, "end");
        Assert.Equal(LivePhase.Ended, ended.Phase);
        Assert.Equal(["甲", "乙"], (await Next(c.Ended)).Podium.Take(2).Select(p => p.Nickname));

        // The store says what the phones were told: the report and the export.
        using var admin = _app.CreateAdminClient();
        var report = (await admin.GetFromJsonAsync<LiveApi.LiveReport>($"/api/live/sessions/{session.Id}/report", Json))!;
        Assert.Equal(4, report.Audience);
        Assert.Equal([[1, 2, 0, 0], [0, 1, 0, 1], [1, 1]], report.Questions.Select(q => q.Distribution));
        Assert.Equal([2 / 3.0, 1.0, 0.5], report.Questions.Select(q => q.RightRate!.Value), new ToleranceComparer());
        Assert.Equal("甲", report.Questions[2].BuzzWinner);
        Assert.Equal(buzz.Top.Select(t => (t.Nickname, t.Place, t.Points)), report.Top.Select(t => (t.Nickname, t.Place, t.Points)));
        var csv = await admin.GetStringAsync($"/api/live/sessions/{session.Id}/results.csv");
        var lines = csv.TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("名次,昵称,地区,得分,答对题数,用时（秒）", lines[0]);
        Assert.StartsWith("1,甲,瑶海区,1900,2,", lines[1]);
        Assert.StartsWith("2,乙,合肥市,1700,2,", lines[2]);
        Assert.Equal(5, lines.Length);
    }

    private sealed class ToleranceComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 0.001;
        public int GetHashCode(double obj) => 0;
    }

    [Fact]
    public async Task APhoneThatReconnectsKeepsItsScoreAndPlaceAndAHostReloadResumes()
    {
        var session = await CreateAsync();
        var cookies = await StaffCookiesAsync("runner", Quiz.Server.Security.Roles.Admin, null);
        var host = Hub(cookies);
        await host.StartAsync();
        await host.InvokeAsync<LiveHostView>("Host", session.Id);
        var a = await JoinAsync(session.Code, "甲");
        var b = await JoinAsync(session.Code, "乙");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await a.AnswerAsync(0, 1);
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "close");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");

        // a's phone drops mid-question and comes back with its rejoin key: the open question, score and place.
        await a.Hub.StopAsync();
        var again = Hub();
        await again.StartAsync();
        var rejoined = await again.InvokeAsync<LiveJoined>("Join", new LiveJoinRequest(session.Code, null, null, a.Joined.RejoinKey));
        Assert.Equal((a.Joined.PlayerId, "甲", 1), (rejoined.PlayerId, rejoined.Nickname, rejoined.Question!.Index));
        Assert.Equal((1000, 1), (rejoined.You.Total, rejoined.You.Place));
        var ack = await again.InvokeAsync<LiveAnswerAck>("Answer", new LiveAnswerRequest(session.Id, 1, [1, 3]));
        Assert.True(ack.Accepted);
        var guesser = await StartedAsync();
        Assert.Equal("session-not-found", await RefusedAsync(() => guesser.InvokeAsync<LiveJoined>("Join", new LiveJoinRequest(session.Code, null, null, "not-a-key"))));

        // The host reloads: a new connection gets the whole state back.
        await host.StopAsync();
        var reloaded = Hub(cookies);
        await reloaded.StartAsync();
        var state = await reloaded.InvokeAsync<LiveHostView>("Host", session.Id);
        Assert.Equal((LivePhase.Open, 1, 1, 2), (state.Phase, state.Index, state.Answered, state.Session.Audience));
        Assert.Equal([1, 3], state.Question!.Key);
        await reloaded.InvokeAsync<LiveHostView>("Command", session.Id, "close");
        var revealed = await reloaded.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        Assert.Equal(("甲", 2000), (revealed.Top[0].Nickname, revealed.Top[0].Points));
        Assert.Equal(new LiveYou(1, false, false, 0, 0, 2, 2), await Next(b.Results, 2));
    }

    [Fact]
    public async Task APhoneHoldingAParticipantTokenMayJoinAsAGuestInstead()
    {
        var session = await CreateAsync();
        var registered = await PlayWorld.RegisterAsync(_app, region: PlayWorld.OtherCounty);

        // Someone else on the registered person's phone: a guest with a nickname and region of their own.
        var guestHub = Hub(token: registered.Token);
        await guestHub.StartAsync();
        var guest = await guestHub.InvokeAsync<LiveJoined>("Join", new LiveJoinRequest(session.Code, "邻居", PlayWorld.City, null, AsGuest: true));
        // The registered person joins too (another phone holding the same token): as registered, another player.
        var owner = await JoinAsync(session.Code, "ignored", token: registered.Token);
        // A guest joining with the token still obeys the guests' rules.
        var refused = await RefusedAsync(() => guestHub.InvokeAsync<LiveJoined>("Join", new LiveJoinRequest(session.Code, "", PlayWorld.City, null, AsGuest: true)));

        Assert.Equal("邻居", guest.Nickname);
        Assert.Equal(registered.Participant.Nickname, owner.Joined.Nickname);
        Assert.NotEqual(guest.PlayerId, owner.Joined.PlayerId);
        Assert.Equal("nickname-refused", refused);
        var players = await _app.Service<LiveStore>().PlayedAsync(session.Id, CancellationToken.None);
        var stored = players.Players.ToDictionary(p => p.Id);
        Assert.Null(stored[guest.PlayerId].ParticipantId);
        Assert.Equal(registered.Participant.ParticipantId, stored[owner.Joined.PlayerId].ParticipantId);
        Assert.Equal(PlayWorld.City, stored[guest.PlayerId].RegionCode);
    }

    [Fact]
    public async Task TheAudienceGoesToEveryPhoneInTheLobbyAndOnlyToHostsOnceQuestionsRun()
    {
        var session = await CreateAsync();
        var host = Hub(await StaffCookiesAsync("counter", Quiz.Server.Security.Roles.Admin, null));
        var hostCounts = new ConcurrentQueue<int>();
        host.On<LiveAudience>("LiveAudience", m => hostCounts.Enqueue(m.Audience));
        await host.StartAsync();
        await host.InvokeAsync<LiveHostView>("Host", session.Id);
        var a = await JoinAsync(session.Code, "甲");
        var phoneCounts = new ConcurrentQueue<int>();
        a.Hub.On<LiveAudience>("LiveAudience", m => phoneCounts.Enqueue(m.Audience));

        // In the lobby the count reaches the phones (at most once a second).
        await JoinAsync(session.Code, "乙");
        _app.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await SeenAsync(() => phoneCounts.Contains(2) && hostCounts.Contains(2)), "the lobby's count of 2 on the phone and the host");

        // Once a question runs, a latecomer's count goes to the hosts only.
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await Next(a.Questions);
        await JoinAsync(session.Code, "丙");
        _app.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await SeenAsync(() => hostCounts.Contains(3)), "the latecomer's count on the host");
        // A reply on the phone's connection comes after anything the server sent it before.
        await a.AnswerAsync(0, 1);
        Assert.DoesNotContain(3, phoneCounts);
        // The phone reads the count in its reveal instead.
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "close");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        Assert.Equal(3, (await Next(a.Results)).Audience);
    }

    private static Task<bool> SeenAsync(Func<bool> pushed) => Eventually.ReadAsync(() => Task.FromResult(pushed()), seen => seen, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task PauseStopsTheClockAndSkipScoresNothing()
    {
        var session = await CreateAsync();
        var host = Hub(await StaffCookiesAsync("pauser", Quiz.Server.Security.Roles.Admin, null));
        await host.StartAsync();
        await host.InvokeAsync<LiveHostView>("Host", session.Id);
        var a = await JoinAsync(session.Code, "甲");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        _app.Clock.Advance(TimeSpan.FromSeconds(5));
        var paused = await host.InvokeAsync<LiveHostView>("Command", session.Id, "pause");
        Assert.Equal((LivePhase.Paused, 15_000L), (paused.Phase, paused.Question!.RemainingMs));
        Assert.Equal("question-closed", await RefusedAsync(() => a.AnswerAsync(0, 1)));
        _app.Clock.Advance(TimeSpan.FromMinutes(2)); // a long pause: the deadline does not pass
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "resume");
        Assert.Equal(15_000, (await Next(a.Questions, 2)).RemainingMs);
        _app.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(10_000, (await a.AnswerAsync(0, 1)).ElapsedMs); // 5 s before the pause, 5 after

        var skipped = await host.InvokeAsync<LiveHostView>("Command", session.Id, "skip");
        Assert.True(skipped.Skipped);
        Assert.Equal(new LiveYou(0, false, false, 0, 0, 1, 1), await Next(a.Results));
        using var admin = _app.CreateAdminClient();
        var report = (await admin.GetFromJsonAsync<LiveApi.LiveReport>($"/api/live/sessions/{session.Id}/report", Json))!;
        Assert.True(Assert.Single(report.Questions).Skipped);
        Assert.Equal(0, report.Questions[0].Answers);
    }

    [Fact]
    public async Task AHostileAudienceIsRefusedAndCountedNowhere()
    {
        var session = await CreateAsync();
        var other = await CreateAsync();
        var host = Hub(await StaffCookiesAsync("guard", Quiz.Server.Security.Roles.Admin, null));
        await host.StartAsync();
        await host.InvokeAsync<LiveHostView>("Host", session.Id);
        var a = await JoinAsync(session.Code, "甲");
        var b = await JoinAsync(session.Code, "乙");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "close");

        // Answers to the closed question, from a phone that joined: none counts, the session goes on.
        var refused = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(_ => RefusedAsync(() => a.AnswerAsync(0, 1))));
        Assert.Equal(10_000, refused.Count(code => code == "question-closed"));
        // An answer naming another session, and a forged time: the server's clock decides.
        Assert.Equal("wrong-session", await RefusedAsync(() => b.Hub.InvokeAsync<LiveAnswerAck>("Answer", new LiveAnswerRequest(other.Id, 0, [1]))));
        var unjoined = await StartedAsync();
        Assert.Equal("not-joined", await RefusedAsync(() => unjoined.InvokeAsync<LiveAnswerAck>("Answer", new LiveAnswerRequest(session.Id, 0, [1]))));
        Assert.Equal("nickname-refused", await RefusedAsync(() => JoinAsync(session.Code, "")));
        Assert.Equal("unknown-region", await RefusedAsync(() => JoinAsync(session.Code, "丙", "999999")));
        Assert.Equal("session-not-found", await RefusedAsync(() => JoinAsync("000000", "丙")));

        var revealed = await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");
        Assert.Equal([0, 0, 0, 0], revealed.Distribution);
        Assert.All(revealed.Top, s => Assert.Equal(0, s.Points));
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show").ContinueWith(t => Assert.True(t.IsFaulted));
        using var admin = _app.CreateAdminClient();
        var report = (await admin.GetFromJsonAsync<LiveApi.LiveReport>($"/api/live/sessions/{session.Id}/report", Json))!;
        Assert.Equal(0, report.Questions[0].Answers);
    }

    [Fact]
    public async Task AHundredJoinsASecondFromOneAddressAreRefusedBeyondTheLimit()
    {
        using var app = new QuizApplication(kestrel: true).With("Live:JoinsPerSecondPerAddress", "1");
        await PlayWorld.SeedAsync(app);
        using var admin = app.CreateAdminClient();
        using var created = await admin.PostAsJsonAsync("/api/live/sessions", Definition);
        var session = (await created.Content.ReadFromJsonAsync<LiveSessionView>(Json))!;
        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(app.ServerAddress, "/hubs/live")).Build();
        await hub.StartAsync();

        var took = System.Diagnostics.Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            try { await hub.InvokeAsync<System.Text.Json.JsonElement>("Join", new LiveJoinRequest(session.Code, $"机器{i}", PlayWorld.County, null)); return "joined"; }
            catch (HubException e) { return ErrorCode(e); }
        }));
        var seconds = took.Elapsed.TotalSeconds;

        // A burst of twice the rate, then the rate: whatever the machine's speed, most are refused.
        var joined = outcomes.Count(o => o == "joined");
        Assert.InRange(joined, 2, 2 + (int)Math.Ceiling(seconds));
        Assert.Equal(100 - joined, outcomes.Count(o => o == "rate-limited"));
        using var info = await app.CreateClient().GetAsync($"/api/live/join/{session.Code}");
        Assert.Equal(joined, (await info.Content.ReadFromJsonAsync<LiveJoinInfo>(Json))!.Audience);
    }

    [Fact]
    public async Task BadSessionsAreRefusedFieldByFieldAndNothingIsStored()
    {
        var before = (await _app.Service<LiveStore>().ListAsync()).Count;
        using var admin = _app.CreateAdminClient();
        using var bad = await admin.PostAsJsonAsync("/api/live/sessions", new
        {
            title = "",
            unitCode = "999999",
            questions = new { ids = new[] { "GEN-00", "NOPE" } },
            rounds = new object[] { new { kind = "buzz", questions = 5 } },
            questionSeconds = 1,
            speed = new { points = 0, minShare = 2 },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = (await bad.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>())!;
        Assert.Equal(["questionSeconds", "questions.ids", "speed.minShare", "speed.points", "title", "unitCode"], problem.Errors.Keys.Order(StringComparer.Ordinal));
        using var mismatch = await admin.PostAsJsonAsync("/api/live/sessions", new
        {
            title = "题数不符", questions = new { track = "general", count = 3 }, rounds = new object[] { new { kind = "must-answer", questions = 2 } },
        });
        Assert.Contains("rounds", (await mismatch.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>())!.Errors.Keys);
        using var malformed = await admin.PostAsync("/api/live/sessions", new StringContent("{\"rounds\": \"many\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(before, (await _app.Service<LiveStore>().ListAsync()).Count);

        // Unit staff run sessions of their own subtree only.
        using var county = await Staff.LoginAsync(_app, "county-clerk", Quiz.Server.Security.Roles.UnitStaff, PlayWorld.County);
        using var outside = await county.PostAsJsonAsync("/api/live/sessions", Definition); // the city above them
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        var session = await CreateAsync();
        var stranger = Hub(await StaffCookiesAsync("other-county", Quiz.Server.Security.Roles.UnitStaff, PlayWorld.OtherCounty));
        await stranger.StartAsync();
        Assert.Equal("not-host", await RefusedAsync(() => stranger.InvokeAsync<LiveHostView>("Host", session.Id)));
        using var export = await county.GetAsync($"/api/live/sessions/{session.Id}/results.csv");
        Assert.Equal(HttpStatusCode.Forbidden, export.StatusCode);
    }

    [Fact]
    public async Task TheUnitDashboardCountsLiveJoinsApartFromRounds()
    {
        await OwnServerAsync();
        var first = await CreateAsync();
        var second = await CreateAsync();
        await JoinAsync(first.Code, "甲", PlayWorld.County);
        await JoinAsync(first.Code, "乙", PlayWorld.County);
        await JoinAsync(first.Code, "丙", PlayWorld.OtherCounty);
        await JoinAsync(second.Code, "丁", PlayWorld.County);
        await JoinAsync(second.Code, "戊", PlayWorld.City);

        using var staff = await Staff.LoginAsync(_app, "city-watch", Quiz.Server.Security.Roles.UnitStaff, PlayWorld.City);
        var city = (await staff.GetFromJsonAsync<LiveJoinsView>($"/api/dashboard/{PlayWorld.CampaignId}/live", Json))!;
        Assert.Equal(new LiveJoinsRow(PlayWorld.City, "合肥市", 5, 2), city.Unit);
        Assert.Equal([(PlayWorld.County, 3L, 2L), (PlayWorld.OtherCounty, 1L, 1L)], city.Children.Select(c => (c.Code, c.Joins, c.Sessions)));
        // Quiz rounds are counted apart: nobody here played one.
        var units = (await staff.GetFromJsonAsync<Quiz.Server.Dashboard.DashboardService.UnitsView>($"/api/dashboard/{PlayWorld.CampaignId}/units", Json))!;
        Assert.Equal(0, units.Unit!.Participants);
        using var outside = await staff.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/live?unit={PlayWorld.Province}");
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
    }

    /// <summary>
    /// A reveal stores its answers a few hundred rows a statement on SQLite (LiveStore.AnswersPerStatement;
    /// one statement for a whole room made a large object): every row arrives once, as given,
    /// across the statements' edges and with a part-filled last one.
    /// </summary>
    [Fact]
    public async Task ARevealsAnswersAreStoredWholeAcrossStatements()
    {
        var session = await CreateAsync();
        var room = (await _app.Service<LiveRooms>().RoomAsync(session.Id))!;
        var count = 2 * LiveStore.AnswersPerStatement + 201;
        string[] choices = ["1", "0,2", "3", "0,1,2,3"];
        var answers = Enumerable.Range(1, count)
            .Select(i => new LiveStore.AnswerRow(0, i, choices[i % choices.Length], i % 3 == 0 ? 1 : 0, i % 3 == 0 ? 500 + i : 0, 20_000 - i))
            .ToList();
        var store = _app.Service<LiveStore>();
        await store.SaveQuestionAsync(session.Id, room.Owner,
            new LiveStore.QuestionRow(0, "GEN-00", 1, LiveStore.Name(LiveRoundKind.MustAnswer), 0, DateTimeOffset.UtcNow.ToString("O"), null), answers);

        var (_, questions, stored) = await store.PlayedAsync(session.Id, CancellationToken.None);
        Assert.Single(questions);
        Assert.Equal(answers, stored);
    }

    [Fact]
    public async Task ANodeThatTakesASessionOverFindsItsPlayersAndRevealedQuestionsInTheStore()
    {
        await OwnServerAsync();
        var session = await CreateAsync();
        var host = Hub(await StaffCookiesAsync("first-node", Quiz.Server.Security.Roles.Admin, null));
        await host.StartAsync();
        await host.InvokeAsync<LiveHostView>("Host", session.Id);
        var a = await JoinAsync(session.Code, "甲");
        await JoinAsync(session.Code, "乙");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        await a.AnswerAsync(0, 1);
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "close");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "reveal");

        // Another server over the same store, as a node taking over after the first one died.
        using var next = new QuizApplication(kestrel: true).With("Storage:DataDir", _app.DataDir);
        var store = next.Services.GetRequiredService<LiveRooms>();
        var room = (await store.RoomAsync(session.Id))!;
        Assert.Equal((LivePhase.Revealed, 0, 2), (room.Phase, room.Index, room.Audience));
        Assert.Equal(("甲", 1000, 1), (room.Top[0].Nickname, room.Top[0].Points, room.Top[0].Place));
        Assert.Equal(a.Joined.PlayerId, room.ByRejoinKey(a.Joined.RejoinKey)!.Id);
        Assert.Null(room.Show().Error); // the host carries on with the next question
        Assert.Equal(1, room.Index);
    }

    [Fact]
    public async Task WhenAnotherNodeTakesASessionTheFirstNodesCopyWritesNothingMoreAndReloadsFromTheStore()
    {
        await OwnServerAsync();
        var session = await CreateAsync();
        var cookies = await StaffCookiesAsync("fenced-node", Quiz.Server.Security.Roles.Admin, null);
        var host = Hub(cookies);
        await host.StartAsync();
        await host.InvokeAsync<LiveHostView>("Host", session.Id);
        var a = await JoinAsync(session.Code, "甲");
        await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");

        // A second node takes the session (the balancer sent the room there) and plays question 0 to its reveal.
        using var next = new QuizApplication(kestrel: true, now: _app.Clock.GetUtcNow()).With("Storage:DataDir", _app.DataDir);
        var other = next.Services.GetRequiredService<LiveRooms>();
        var taken = (await other.RoomAsync(session.Id))!;
        Assert.Null(taken.Show().Error);
        Assert.Null(await other.CommandAsync(taken, "close"));
        Assert.Null(await other.CommandAsync(taken, "reveal"));

        // The first node's host, still on its stale copy (question 0 open), closes it: its write is
        // refused, its copy dropped, and the command runs again on the session as the store has it
        // (question 0 revealed), where closing is out of place: the host page reloads its view.
        Assert.Equal("wrong-phase", await RefusedAsync(() => host.InvokeAsync<LiveHostView>("Command", session.Id, "close")));
        var state = await host.InvokeAsync<LiveHostView>("Host", session.Id);
        Assert.Equal((LivePhase.Revealed, 0), (state.Phase, state.Index));
        var view = await host.InvokeAsync<LiveHostView>("Command", session.Id, "show");
        Assert.Equal((LivePhase.Open, 1), (view.Phase, view.Index));
        await using var connection = await _app.Service<Quiz.Server.Storage.Database>().OpenAsync();
        var questions = (await Dapper.SqlMapper.QueryAsync<long>(connection,
            "SELECT question_index FROM live_questions WHERE session_id = @id ORDER BY question_index", new { id = session.Id })).ToList();
        Assert.Equal([0L], questions); // question 0 written once, by the node that revealed it
        var owner = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT owner FROM live_sessions WHERE id = @id", new { id = session.Id });
        Assert.Equal(taken.Owner + 1, owner); // the first node took it back when its host called
        // A third node shows the session (a list, the code lookup) without taking it, as the store has it.
        using (var third = new QuizApplication(now: _app.Clock.GetUtcNow()).With("Storage:DataDir", _app.DataDir))
        {
            var shown = (await third.Service<LiveRooms>().ViewAsync(session.Id))!;
            Assert.Equal((LivePhase.Open, 0), (shown.Phase, shown.Index)); // open, as the store says; the last question written is 0
            Assert.Equal(owner, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT owner FROM live_sessions WHERE id = @id", new { id = session.Id }));
        }
        // And the second node's copy is now the stale one: its next write is refused, not applied.
        await Assert.ThrowsAsync<LiveStore.MovedException>(() => other.CommandAsync(taken, "end"));
        Assert.Equal(("open", (string?)null), await Dapper.SqlMapper.QuerySingleAsync<(string, string?)>(connection,
            "SELECT phase, ended_at FROM live_sessions WHERE id = @id", new { id = session.Id }));
    }
}
