using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Quiz.Server.Participants;

namespace Quiz.Cluster.Tests.Infrastructure;

/// <summary>
/// One phone, reaching the platform only through nginx, from a loopback address of its own: its
/// HTTP requests, its hub's negotiate and its WebSocket all leave from that address, so nginx
/// hashes it to one node and the nodes see it as one client.
/// </summary>
public sealed class Phone(Uri balancer, IPAddress source) : IDisposable
{
    public IPAddress Source { get; } = source;
    /// <summary>The phone's cookies (a staff login's), sent by its HTTP requests and its hubs alike.</summary>
    public CookieContainer Cookies { get; } = new();
    public HttpClient Http => _http ??= new(Handler(Source, Cookies)) { BaseAddress = balancer, Timeout = TimeSpan.FromSeconds(30) };
    private HttpClient? _http;

    /// <summary>Registers as a person does (the form, the code read from the node's log, the token); says which node served it.</summary>
    public async Task<(ParticipantsApi.Registered Registered, string Node)> RegisterAsync(ClusterFixture cluster, string region)
    {
        var mobile = cluster.NextMobile();
        using var form = await Http.PostAsJsonAsync("/api/participants/register",
            new { nickname = $"玩家{mobile[^4..]}", mobile, regionCode = region, track = "general" });
        Assert.True(form.StatusCode == HttpStatusCode.Accepted, $"register: {form.StatusCode} {await form.Content.ReadAsStringAsync()}");
        var sent = (await form.Content.ReadFromJsonAsync<ParticipantsApi.VerificationSent>())!;
        var code = await cluster.Logs.Codes.CodeForAsync(sent.VerificationId, TimeSpan.FromSeconds(30));
        var node = await cluster.Logs.NodeOfAsync(sent.VerificationId);
        using var verified = await Http.PostAsJsonAsync("/api/participants/verify", new { sent.VerificationId, code });
        Assert.True(verified.IsSuccessStatusCode, $"verify: {verified.StatusCode} {await verified.Content.ReadAsStringAsync()}");
        return ((await verified.Content.ReadFromJsonAsync<ParticipantsApi.Registered>())!, node);
    }

    /// <summary>A play hub connection over WebSockets through nginx (not started).</summary>
    public HubConnection Hub(string token) => Hub("/hubs/play", token);

    /// <summary>A hub connection over WebSockets through nginx (not started), with a participant's token or none (the dashboard's).</summary>
    public HubConnection Hub(string path, string? token)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(Http.BaseAddress!, path), HttpTransportType.WebSockets, options =>
            {
                if (token is not null) options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                options.HttpMessageHandlerFactory = _ => Handler(Source, Cookies);
                options.WebSocketFactory = async (context, ct) =>
                {
                    var socket = new ClientWebSocket();
                    if (token is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
                    try
                    {
                        await socket.ConnectAsync(context.Uri, new HttpMessageInvoker(Handler(Source, Cookies)), ct);
                        return socket;
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
            })
            // Enums travel as names (docs/protocol.md), as the server writes them.
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(Quiz.Server.Hosting.JsonEnums.Converter()))
            .Build();
        hub.ServerTimeout = TimeSpan.FromSeconds(30);
        return hub;
    }

    /// <summary>
    /// Starts a hub as the phone page does (src/Quiz.Web/src/play/session.ts, docs/protocol.md §3):
    /// a failed start is tried again after 1, 2, 3 and 5 s, except a refused token. Behind nginx a
    /// start can fail on its own: the negotiate and the WebSocket that follows are two requests,
    /// and while nginx takes a node out or back (max_fails, fail_timeout) they can reach two nodes;
    /// the second knows no such connection and answers 404. The next start lands both on one.
    /// </summary>
    public static async Task StartAsync(HubConnection hub, Action<string>? log = null)
    {
        int[] delays = [1000, 2000, 3000, 5000];
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await hub.StartAsync();
                return;
            }
            catch (Exception e) when (attempt < delays.Length && !e.Message.Contains("401"))
            {
                log?.Invoke($"hub start {attempt + 1} failed ({e.GetType().Name}: {e.Message}); trying again as the page does");
                await Task.Delay(delays[attempt]);
            }
        }
    }

    /// <summary>Connections that leave from this phone's address.</summary>
    private static SocketsHttpHandler Handler(IPAddress source, CookieContainer cookies) => new()
    {
        CookieContainer = cookies,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public void Dispose() => _http?.Dispose();
}
