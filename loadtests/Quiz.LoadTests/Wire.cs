using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Quiz.LoadTests;

// The few messages of docs/protocol.md this client reads, copied so the load generator builds
// without the server. Only the fields it uses: the JSON protocol ignores the rest.

public sealed record Registration(string Nickname, string Mobile, string RegionCode, string? OrganisationCode, string Track);
public sealed record VerificationSent(string VerificationId);
public sealed record Verify(string VerificationId, string Code);
public sealed record Registered(string Token, RegisteredParticipant Participant);
public sealed record RegisteredParticipant(long ParticipantId);
public sealed record Region(string Code, bool HasChildren);

public sealed record StartRoundRequest(string CampaignId);
public sealed record QuestionView(int Position, string Type, IReadOnlyList<string> Options);
public sealed record RoundView(string RoundId, IReadOnlyList<QuestionView> Questions, DateTimeOffset Deadline, int AttemptsLeft);
public sealed record AnswerRequest(string RoundId, int Position, int[] Choices, bool Finish = false);
public sealed record AnswerResult(int Position, bool Correct, bool Late, RoundResult? Result = null);
public sealed record FinishRequest(string RoundId);
public sealed record RoundResult(string RoundId, int Score, bool AutoFinished, long? NationalRank, bool RankPending);

/// <summary>A registered participant: the token that logs them into the hub.</summary>
public sealed record Participant(long Id, string Token);

/// <summary>The server as the load generator sees it: HTTP calls and hub connections.</summary>
public sealed class QuizServer : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly ServerLog? _log;
    // Phones behind a balancer that is sticky by address (nginx's ip_hash, deploy/cluster.sh): each
    // source address its own client, registrations and hubs taking them in turn.
    private readonly (IPAddress Address, SocketsHttpHandler Handler, HttpClient Http)[] _sources;
    private long _nextSource;

    /// <param name="log">The server's log, where the embedded run writes verification codes; registration needs it.</param>
    /// <param name="sourceAddresses">
    /// 0: every request from the default address. K: from K loopback addresses 127.a.b.1, each in a
    /// /24 of its own, as many phones reach a balancer from many addresses.
    /// </param>
    public QuizServer(Uri baseUri, bool skipNegotiation, ServerLog? log, int sourceAddresses = 0)
    {
        _log = log;
        BaseUri = baseUri;
        SkipNegotiation = skipNegotiation;
        _http = new HttpClient(Handler(null)) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        _sources = Enumerable.Range(1, sourceAddresses).Select(i =>
        {
            var address = new IPAddress([127, (byte)(1 + i / 250), (byte)(i % 250 + 1), 1]);
            var handler = Handler(address);
            return (address, handler, new HttpClient(handler, disposeHandler: false) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) });
        }).ToArray();
    }

    private static SocketsHttpHandler Handler(IPAddress? source) => new()
    {
        // Phones each have their own connection. At 256 the burst's registrations queued in this
        // client for ~14 s of their ~14.2 s while the server took ~0.2 s for both requests
        // (issue 12, 06:52 UTC): the generator, not the server, was their limit.
        MaxConnectionsPerServer = 2048,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = source is null ? null : async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>The next source address's client and handler, or the default client when there are none.</summary>
    private (IPAddress? Address, SocketsHttpHandler? Handler, HttpClient Http) NextSource() =>
        _sources.Length == 0 ? (null, null, _http) : _sources[Interlocked.Increment(ref _nextSource) % _sources.Length];

    public Uri BaseUri { get; }
    public bool SkipNegotiation { get; }

    /// <summary>
    /// A registration as a person makes it, in three parts a caller times one by one: the form
    /// sent, the code read from the server's log (where the embedded run sends it), the code
    /// proven for the token. All three from one source address: <see cref="Source"/>.
    /// </summary>
    public HttpClient Source() => NextSource().Http;

    public async Task<VerificationSent> SendCodeAsync(HttpClient http, Registration registration, CancellationToken ct)
    {
        if (_log is null) throw new InvalidOperationException("registering needs the server's log for its verification codes: give --server-log");
        using var response = await http.PostAsJsonAsync("/api/participants/register", registration, Json, ct);
        if (!response.IsSuccessStatusCode) throw new HttpStatusException(response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        return (await response.Content.ReadFromJsonAsync<VerificationSent>(Json, ct))!;
    }

    public Task<string> ReadCodeAsync(VerificationSent sent, CancellationToken ct) => _log!.CodeAsync(sent.VerificationId, ct);

    public async Task<Participant> VerifyAsync(HttpClient http, VerificationSent sent, string code, CancellationToken ct)
    {
        using var verified = await http.PostAsJsonAsync("/api/participants/verify", new Verify(sent.VerificationId, code), Json, ct);
        if (!verified.IsSuccessStatusCode) throw new HttpStatusException(verified.StatusCode, await verified.Content.ReadAsStringAsync(ct));
        var registered = (await verified.Content.ReadFromJsonAsync<Registered>(Json, ct))!;
        return new Participant(registered.Participant.ParticipantId, registered.Token);
    }

    /// <summary>Lowest-level regions to register people in: provinces without children, and counties (bounded look-ups).</summary>
    public async Task<IReadOnlyList<string>> LeafRegionsAsync(int wanted, CancellationToken ct)
    {
        var leaves = new List<string>();
        var pending = new Queue<string?>([null]);
        for (var lookups = 0; lookups < 60 && pending.Count > 0 && leaves.Count < wanted; lookups++)
        {
            var parent = pending.Dequeue();
            var regions = await _http.GetFromJsonAsync<List<Region>>(parent is null ? "/api/units/regions" : $"/api/units/regions?parent={parent}", Json, ct) ?? [];
            foreach (var region in regions)
                if (!region.HasChildren) leaves.Add(region.Code);
                else pending.Enqueue(region.Code);
        }
        if (leaves.Count == 0) throw new InvalidOperationException("no lowest-level region found at /api/units/regions");
        return leaves;
    }

    /// <summary>
    /// Creates (or replaces) the campaign the long scenarios play: the demo's rules with 100
    /// attempts a day (the most a stage allows) and no minimum answer time, open from yesterday
    /// for 20 days, so a participant can play many rounds in one run.
    /// </summary>
    public async Task PutLoadCampaignAsync(string id, string adminKey, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));
        var campaign = new
        {
            id,
            name = "压力测试（load test）",
            description = "Created by loadtests/Quiz.LoadTests.",
            utcOffset = "+08:00",
            stages = new[]
            {
                new
                {
                    id = "load", name = "压力测试", startDay = today.AddDays(-1).ToString("yyyy-MM-dd"), endDay = today.AddDays(20).ToString("yyyy-MM-dd"),
                    questionsPerRound = 5, roundSeconds = 120, attemptsPerDay = 100, aggregation = "best",
                    difficulty = new Dictionary<string, int> { ["1"] = 2, ["2"] = 2, ["3"] = 1 }, showAnswers = true, minAnswerMs = 0,
                },
            },
        };
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/admin/campaigns/{id}")
        {
            Content = new StringContent(JsonSerializer.Serialize(campaign, Json), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpStatusException(response.StatusCode, $"PUT campaign {id}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    /// <summary>The Prometheus text at /metrics (admins only, unless the server says otherwise), or null when the server has none.</summary>
    public async Task<string?> MetricsAsync(string? adminKey, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            if (adminKey is not null) request.Headers.Add("X-Admin-Key", adminKey);
            using var response = await _http.SendAsync(request, ct);
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync(ct) : null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { return null; }
    }

    /// <summary>True when the server maps /hubs/echo (a negotiate that is not 404).</summary>
    public async Task<bool> HasEchoHubAsync(CancellationToken ct)
    {
        using var response = await _http.PostAsync("/hubs/echo/negotiate?negotiateVersion=1", null, ct);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    /// <summary>
    /// A hub connection over WebSockets. Without negotiation by default: a negotiate through the
    /// .NET client keeps one more pooled HTTP socket per connection on both sides, which at
    /// 10,000 connections eats half the 20,000 file descriptors a process has here.
    /// </summary>
    public HubConnection Connection(string path, string? token)
    {
        var source = NextSource().Handler;
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(BaseUri, path), HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = SkipNegotiation;
                if (token is not null) options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                if (source is null) return;
                // The negotiate and the WebSocket leave from the same address, so a sticky balancer keeps them on one node.
                options.HttpMessageHandlerFactory = _ => new NotDisposing(source);
                options.WebSocketFactory = async (context, ct) => await OpenWebSocketAsync(context.Uri, source, token, ct);
            })
            .Build();
        connection.ServerTimeout = TimeSpan.FromSeconds(60);
        connection.KeepAliveInterval = TimeSpan.FromSeconds(15);
        connection.HandshakeTimeout = TimeSpan.FromSeconds(30);
        return connection;
    }

    /// <summary>A <see cref="RawHub"/> on <paramref name="path"/>: a bare WebSocket, no negotiation, from the next source address.</summary>
    public async Task<RawHub> RawHubAsync(string path, string? token, CancellationToken ct)
    {
        if (BaseUri.Scheme != "http") throw new NotSupportedException("the raw client speaks plain ws:// to a loopback server: use --client hubconnection for https");
        var server = _endpoint ??= new IPEndPoint(
            IPAddress.TryParse(BaseUri.Host, out var literal) ? literal : (await Dns.GetHostAddressesAsync(BaseUri.Host, AddressFamily.InterNetwork, ct))[0],
            BaseUri.Port);
        return await RawHub.ConnectAsync(server, NextSource().Address, BaseUri.Authority, new Uri(BaseUri, path).PathAndQuery, token, ct);
    }

    private IPEndPoint? _endpoint;

    /// <summary>A WebSocket to <paramref name="uri"/> with the participant's token, from the source address's handler (or the default one).</summary>
    private static async Task<ClientWebSocket> OpenWebSocketAsync(Uri uri, SocketsHttpHandler? source, string? token, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("User-Agent", "Quiz.LoadTests");
        if (token is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        try
        {
            if (source is null) await socket.ConnectAsync(uri, ct);
            else await socket.ConnectAsync(uri, new HttpMessageInvoker(source, disposeHandler: false), ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var (_, handler, http) in _sources)
        {
            http.Dispose();
            handler.Dispose();
        }
    }

    /// <summary>A source address's handler lent to a hub connection, which disposes what it is given.</summary>
    private sealed class NotDisposing(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing) { }
    }
}
