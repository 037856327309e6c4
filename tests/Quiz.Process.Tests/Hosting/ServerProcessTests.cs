using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using Quiz.Server.Participants;
using Quiz.Server.Play;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Hosting;

/// <summary>
/// The server as a user starts it: its own process, from a folder that is not its own. What it
/// reads, where it writes, and what its log holds after a client sends garbage.
/// </summary>
public sealed class ServerProcessTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "quiz-tests", "process-" + Guid.NewGuid().ToString("N"));

    public ServerProcessTests() => PlayWorld.WriteBank(Path.Combine(_folder, "question-bank"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private static async Task<string> RegisterAsync(ServerProcess server)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        return (await PlayWorld.RegisterAsync(http, server.Codes,
            new { nickname = "测试用户", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "general" })).Token;
    }

    /// <summary>As the browser client connects: the token in the query string, on every request of the transport.</summary>
    private static async Task<HubConnection> ConnectAsync(ServerProcess server, string token, HttpTransportType transport)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(server.Address, $"/hubs/play?access_token={Uri.EscapeDataString(token)}"), transport)
            .Build();
        await hub.StartAsync();
        return hub;
    }

    /// <summary>Calls that the server refuses: protocol errors, missing arguments, wrong shapes, unknown methods.</summary>
    private static async Task<int> SendGarbageAsync(HubConnection hub, int rounds)
    {
        var refused = 0;
        for (var i = 0; i < rounds; i++)
        {
            Func<Task>[] calls =
            [
                () => hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest("no-such-campaign")),
                () => hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest("no-such-round", -1, [99])),
                () => hub.InvokeAsync<RoundResult>("Finish", (object?)null),
                () => hub.InvokeAsync<RoundView>("StartRound", "not an object"),
                () => hub.InvokeAsync<object>("DropAllTables", 1, 2, 3),
            ];
            foreach (var call in calls)
            {
                await Assert.ThrowsAsync<HubException>(call);
                refused++;
            }
        }
        // The connection stays open and later calls work (architecture rule 6).
        Assert.Null(await hub.InvokeAsync<RoundView?>("CurrentRound", PlayWorld.CampaignId));
        return refused;
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // the file modes
    public async Task StartedFromAnotherFolderItReadsItsOwnSettingsKeepsDataThereAndLogsGarbageCallsInNoSpace()
    {
        int refused;
        ServerProcess server;
        await using (server = await ServerProcess.StartInAsync(_folder))
        {
            var token = await RegisterAsync(server);
            await using var socket = await ConnectAsync(server, token, HttpTransportType.WebSockets);
            await using var polling = await ConnectAsync(server, token, HttpTransportType.LongPolling);
            refused = await SendGarbageAsync(socket, 100) + await SendGarbageAsync(polling, 40);
            await server.StopAsync();
        }
        var log = server.Log;

        // appsettings.json beside the binaries was read: its console format is one line with a timestamp.
        Assert.Matches(new Regex($@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d info: Microsoft\.Hosting\.Lifetime\[\d+\] Content root path: {Regex.Escape(AppContext.BaseDirectory.TrimEnd('/'))}/?$",
            RegexOptions.Multiline), log);
        // ./data and question-bank are where the command was typed.
        Assert.True(File.Exists(Path.Combine(_folder, "data", "quiz.db")), log);
        Assert.Contains("Loaded 36 questions", log);
        // The secrets it generated there are its user's alone.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_folder, "data")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "data", "admin.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "data", "participant.secret")));
        // 700 refused calls: no stack trace, and (startup aside) next to nothing each.
        Assert.Equal(700, refused);
        Assert.DoesNotContain("   at ", log);
        Assert.True(log.Length < 4_000 + 2 * refused, $"{log.Length} bytes of log:\n{log}");
    }

    /// <summary>
    /// When a campaign opens, phones connect faster than a node with both cores busy accepts them.
    /// The kernel holds the connections it has completed in the listen queue until Kestrel takes
    /// them; past the queue's length it drops each new one, which then waits a second or more for
    /// a retry (Kestrel's default of 512 overflowed thousands of times in one opening burst:
    /// BENCHMARKS.md). The node here accepts nothing at all while stopped, and 1,500 arrive.
    /// </summary>
    [Fact]
    public async Task ConnectionsArrivingFasterThanItAcceptsWaitInTheListenQueueInsteadOfBeingDropped()
    {
        const int arriving = 1_500;
        var somaxconn = int.Parse(File.ReadAllText("/proc/sys/net/core/somaxconn").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(somaxconn >= arriving, $"net.core.somaxconn is {somaxconn}: the kernel caps every listen queue there, below the {arriving} connections this test sends");
        await using var server = await ServerProcess.StartInAsync(_folder);
        var sockets = new System.Collections.Concurrent.ConcurrentBag<Socket>();
        int connected;
        await server.PauseAsync();
        try
        {
            // Each waits 3 s: past a full queue the kernel drops the SYN, and the retries come at 1 and 3 s.
            var attempts = Enumerable.Range(0, arriving).Select(async _ =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Address.Port), timeout.Token);
                    return true;
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException) { return false; }
            });
            connected = (await Task.WhenAll(attempts)).Count(c => c);
        }
        finally { await server.ResumeAsync(); }
        foreach (var socket in sockets) socket.Dispose();

        Assert.Equal(arriving, connected);
        // Running again, it takes the queue and serves as before.
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task TokensNeverReachTheLogEvenWithRequestLoggingOn()
    {
        string token;
        ServerProcess server;
        await using (server = await ServerProcess.StartInAsync(_folder, "--Logging:LogLevel:Microsoft.AspNetCore=Information"))
        {
            token = await RegisterAsync(server);
            await using var socket = await ConnectAsync(server, token, HttpTransportType.WebSockets);
            await using var polling = await ConnectAsync(server, token, HttpTransportType.LongPolling);
            await SendGarbageAsync(socket, 2);
            await SendGarbageAsync(polling, 2);
            await server.StopAsync();
        }
        var log = server.Log;

        // The request log is on and names the hub's requests, with the token masked.
        Assert.Contains("/hubs/play?access_token=[redacted]", log);
        Assert.Contains("/hubs/play/negotiate?access_token=[redacted]", log);
        Assert.DoesNotContain(token.Split('.')[2], log); // the signature: the secret part
        Assert.DoesNotContain("   at ", log);
    }
}
