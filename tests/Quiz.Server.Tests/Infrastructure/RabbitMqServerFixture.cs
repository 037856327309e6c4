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
                throw new InvalidOperationException($"rabbitmq-server did not accept AMQP on port {Port}:\n{string.Join("\n", _output.TakeLast(30))}");
            await Task.Delay(100);
        }
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
