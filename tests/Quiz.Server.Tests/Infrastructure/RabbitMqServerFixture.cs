using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// A real RabbitMQ broker of its own (Debian's rabbitmq-server) on free loopback ports, with its
/// node name, data, logs, config, Erlang cookie and epmd in a temporary folder: nothing of the
/// machine's own broker is used or left behind. It takes several seconds to start, so share one per
/// test collection. It can be stopped and started again on the same ports and data (an outage:
/// durable queues and the events in them survive).
/// </summary>
public sealed class RabbitMqServerFixture : IAsyncLifetime
{
    private const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quiz-tests", "rabbitmq-" + Guid.NewGuid().ToString("N"));
    private readonly string _node = $"quiz-{Guid.NewGuid():N}@localhost";
    private readonly int _distPort = ServerProcess.FreePort();
    private readonly int _epmdPort = ServerProcess.FreePort();
    private Process? _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    public int Port { get; } = ServerProcess.FreePort();

    /// <summary>The broker as the server's <c>Bus:RabbitMq</c> setting takes it.</summary>
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <summary>The suite's bus when the tests run with QUIZ_TEST_BUS=rabbitmq.</summary>
    public static bool TestBusIsRabbitMq { get; } =
        string.Equals(System.Environment.GetEnvironmentVariable("QUIZ_TEST_BUS"), "rabbitmq", StringComparison.OrdinalIgnoreCase);

    private static readonly Lazy<RabbitMqServerFixture> SharedBroker = new(() =>
    {
        var broker = new RabbitMqServerFixture();
        broker.InitializeAsync().GetAwaiter().GetResult();
        broker.StartReaper();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => broker.DisposeAsync().GetAwaiter().GetResult();
        return broker;
    });

    /// <summary>One broker for the whole run of the suite on RabbitMQ; each test class gets a virtual host of its own on it.</summary>
    public static RabbitMqServerFixture Shared => SharedBroker.Value;

    private readonly Dictionary<string, string> _virtualHosts = new();
    private readonly SemaphoreSlim _virtualHostLock = new(1, 1);

    /// <summary>
    /// The broker URI of a virtual host of its own for a store name (a test class's data folder):
    /// created the first time, the same one after, so a server restarted on its folder finds its
    /// queues again and no two test classes see each other's events.
    /// </summary>
    public string UriFor(string key)
    {
        _virtualHostLock.Wait();
        try
        {
            if (!_virtualHosts.TryGetValue(key, out var host))
            {
                host = "quiz-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..24];
                var definitions = Path.Combine(_root, host + ".json");
                File.WriteAllText(definitions, $$"""
                    { "vhosts": [ { "name": "{{host}}" } ],
                      "permissions": [ { "user": "guest", "vhost": "{{host}}", "configure": ".*", "write": ".*", "read": ".*" } ] }
                    """);
                RunAsync("/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", _node, "import_definitions", definitions).GetAwaiter().GetResult();
                _virtualHosts[key] = host;
            }
            return $"amqp://guest:guest@127.0.0.1:{Port}/{host}";
        }
        finally { _virtualHostLock.Release(); }
    }

    /// <summary>The settings that put a server on its virtual host, for a server process's command line.</summary>
    public string[] ServerSettings(string key) => ["--Bus:Transport=RabbitMq", $"--Bus:RabbitMq={UriFor(key)}"];

    public async Task InitializeAsync()
    {
        if (!File.Exists(Server)) throw new InvalidOperationException("rabbitmq-server is not installed (apt-get install -y rabbitmq-server).");
        Directory.CreateDirectory(_root);
        await File.WriteAllTextAsync(Path.Combine(_root, "rabbitmq.conf"), $"""
            listeners.tcp.default = 127.0.0.1:{Port}
            disk_free_limit.absolute = 1MB
            log.console = false
            log.file.level = warning
            """);
        await File.WriteAllTextAsync(Path.Combine(_root, "enabled_plugins"), "[].");
        await File.WriteAllTextAsync(Path.Combine(_root, "rabbitmq-env.conf"), "");
        // An epmd of our own on a free port, so nothing is shared with other brokers or tests.
        await RunAsync("epmd", "-daemon", "-relaxed_command_check");
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        try { await RunAsync("epmd", "-kill"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Server) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        Environment(start);
        start.Environment["RABBITMQ_NODENAME"] = _node;
        start.Environment["RABBITMQ_NODE_PORT"] = Port.ToString();
        start.Environment["RABBITMQ_DIST_PORT"] = _distPort.ToString();
        start.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(_root, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(_root, "log");
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(_root, "rabbitmq.conf");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_root, "enabled_plugins");
        start.Environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_root, "rabbitmq-env.conf");
        start.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (!await AcceptsAmqpAsync())
        {
            if (_process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(90))
                throw new InvalidOperationException($"rabbitmq-server did not accept AMQP on port {Port} (distribution {_distPort}, epmd {_epmdPort}) within {waited.Elapsed.TotalSeconds:F0} s:\n{string.Join("\n", _output.TakeLast(30))}\n{LogTail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The end of the broker's own log: why it stopped, which its console does not say.</summary>
    private string LogTail()
    {
        try
        {
            var logs = Path.Combine(_root, "log");
            return Directory.Exists(logs)
                ? string.Join("\n", Directory.GetFiles(logs, "*.log").SelectMany(f => File.ReadLines(f).TakeLast(20)))
                : "";
        }
        catch (IOException) { return ""; }
    }

    /// <summary>Stops the broker as a service manager does (SIGTERM, then SIGKILL of the whole tree if it hangs).</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { }
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>
    /// A test host that is killed must not leave the shared broker running: a small shell of its
    /// own session waits for this process to end, then stops the broker and its epmd.
    /// </summary>
    private void StartReaper()
    {
        var script = $$"""
            while kill -0 {{System.Environment.ProcessId}} 2>/dev/null; do sleep 1; done
            kill -TERM {{_process!.Id}} 2>/dev/null
            sleep 10; kill -KILL {{_process.Id}} 2>/dev/null
            HOME='{{_root}}' ERL_EPMD_PORT={{_epmdPort}} epmd -kill >/dev/null 2>&1
            rm -rf '{{_root}}'
            """;
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "sh", "-c", script }) start.ArgumentList.Add(a);
        using var reaper = Process.Start(start)!;
    }

    private void Environment(ProcessStartInfo start)
    {
        start.Environment["HOME"] = _root; // the Erlang cookie
        start.Environment["ERL_EPMD_PORT"] = _epmdPort.ToString();
        start.Environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
    }

    private async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        Environment(start);
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {await process.StandardError.ReadToEndAsync()}");
    }

    /// <summary>True once the broker answers the AMQP 0-9-1 protocol header with a method frame (Connection.Start).</summary>
    private async Task<bool> AcceptsAmqpAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), timeout.Token);
            var buffer = new byte[1];
            return await stream.ReadAsync(buffer, timeout.Token) == 1 && buffer[0] == 1;
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
        catch (OperationCanceledException) { return false; }
    }
}

[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqServerFixture>
{
    public const string Name = "rabbitmq";
}
