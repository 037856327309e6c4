using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Npgsql;

namespace Quiz.Cluster.Tests.Infrastructure;

/// <summary>
/// The local cluster of <c>deploy/cluster.sh up --nodes 3</c> (PostgreSQL, Redis, RabbitMQ, three
/// Quiz nodes in Release, nginx in front) in a temporary folder of its own, brought down and
/// removed afterwards; a test host that dies leaves nothing running either (a reaper of its own
/// session runs <c>down</c> when this process ends). The nodes run exactly as the script starts
/// them, with the question bank of the repository (its demo campaign: 3 rounds a day).
/// </summary>
public sealed partial class ClusterFixture : IAsyncLifetime
{
    public const int Nodes = 3;
    public const string Campaign = "demo", Stage = "practice";
    public const int AttemptsPerDay = 3;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quiz-tests", "cluster-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _root = RepositoryRoot();
    private Dictionary<string, string> _state = [];
    private int _phones;

    public Uri Balancer { get; private set; } = null!;
    public string AdminKey { get; private set; } = "";
    /// <summary>The verification codes the nodes wrote to their logs, and which node wrote each.</summary>
    public NodeLogs Logs { get; private set; } = null!;
    /// <summary>The counties of the repository's unit list, to register people in.</summary>
    public IReadOnlyList<string> Counties { get; private set; } = [];
    /// <summary>How long <c>up</c> took (the Release build included when it had to build).</summary>
    public TimeSpan StartedIn { get; private set; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        StartReaper();
        var clock = Stopwatch.StartNew();
        var (code, output) = await RunScriptAsync(TimeSpan.FromMinutes(15), "up", "--nodes", Nodes.ToString());
        StartedIn = clock.Elapsed;
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        var up = UpLine().Match(last);
        if (code != 0 || !up.Success)
        {
            await RunScriptAsync(TimeSpan.FromMinutes(2), "down");
            throw new InvalidOperationException($"deploy/cluster.sh up failed ({code}):\n{string.Join('\n', output.Split('\n').TakeLast(40))}");
        }
        Balancer = new Uri(up.Groups[1].Value);
        Assert.Equal(Nodes, int.Parse(up.Groups[2].Value));
        _state = ReadEnv(Path.Combine(_dir, "cluster.env"));
        AdminKey = ReadEnv(Path.Combine(_dir, "secrets.env"))["QUIZ_ADMIN_KEY"];
        Logs = new NodeLogs(Enumerable.Range(1, Nodes).ToDictionary(i => $"quiz{i}", i => LogPath($"quiz{i}")));
        Counties = File.ReadLines(Path.Combine(_root, "question-bank", "units", "regions.csv"))
            .Select(l => l.Split(',')).Where(f => f.Length >= 4 && f[3] == "county").Select(f => f[0]).ToList();
    }

    public async Task DisposeAsync()
    {
        if (Logs is not null) await Logs.DisposeAsync();
        var (code, output) = await RunScriptAsync(TimeSpan.FromMinutes(3), "down");
        NpgsqlConnection.ClearAllPools();
        if (code != 0) throw new InvalidOperationException($"deploy/cluster.sh down failed ({code}):\n{output}");
        // Every process's log, kept next to the test assembly for whoever reads a failure.
        var kept = Path.Combine(AppContext.BaseDirectory, "cluster-logs");
        if (Directory.Exists(kept)) Directory.Delete(kept, recursive: true);
        Directory.CreateDirectory(kept);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_dir, "logs"))) File.Copy(file, Path.Combine(kept, Path.GetFileName(file)));
        try { Directory.Delete(_dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The store the nodes share, as the nodes reach it (user quiz, its password).</summary>
    public NpgsqlConnection OpenStore() => new(new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = int.Parse(_state["POSTGRES_LOCAL_PORT"]), Database = "quiz", Username = "quiz",
        Password = ReadEnv(Path.Combine(_dir, "secrets.env"))["POSTGRES_PASSWORD"], Timeout = 5, CommandTimeout = 30,
    }.ToString());

    /// <summary>
    /// A phone of its own: a loopback address in a /24 of its own (127.a.b.1), since nginx's
    /// ip_hash keeps a client on the node its address's first three octets hash to, and the
    /// nodes count their per-address limits by the address nginx forwards.
    /// </summary>
    public Phone NewPhone()
    {
        var i = Interlocked.Increment(ref _phones);
        return new Phone(Balancer, new IPAddress([127, (byte)(1 + i / 250), (byte)(i % 250 + 1), 1]));
    }

    /// <summary>
    /// A phone whose address nginx sends to a node <paramref name="onNode"/> accepts, with the
    /// participant registered through it (the registration tells the node).
    /// </summary>
    public async Task<(Phone Phone, Quiz.Server.Participants.ParticipantsApi.Registered Registered, string Node)> PhoneOnAsync(Func<string, bool> onNode)
    {
        for (var tries = 0; tries < 60; tries++)
        {
            var phone = NewPhone();
            var (registered, node) = await phone.RegisterAsync(this, Counties[tries % Counties.Count]);
            if (onNode(node)) return (phone, registered, node);
            phone.Dispose();
        }
        throw new InvalidOperationException("nginx sent no phone to the node wanted");
    }

    /// <summary>A new mobile number, unique in this cluster's store.</summary>
    public string NextMobile() => $"139{_mobileBase + Interlocked.Increment(ref _mobiles):00000000}";
    private readonly int _mobileBase = Random.Shared.Next(0, 50_000_000);
    private int _mobiles;

    public async Task KillNodeAsync(int node)
    {
        var (code, output) = await RunScriptAsync(TimeSpan.FromSeconds(30), "kill-node", node.ToString());
        Assert.True(code == 0, $"kill-node {node}: {output}");
    }

    public async Task StartNodeAsync(int node)
    {
        var (code, output) = await RunScriptAsync(TimeSpan.FromMinutes(3), "start-node", node.ToString());
        Assert.True(code == 0, $"start-node {node}: {output}");
    }

    /// <summary>Freezes the cluster's Redis (SIGSTOP): its sockets stay open, nothing answers, as when it hangs.</summary>
    public Task FreezeRedisAsync() => SignalRedisAsync("STOP");

    public Task ThawRedisAsync() => SignalRedisAsync("CONT");

    private async Task SignalRedisAsync(string signal)
    {
        var pid = File.ReadAllText(Path.Combine(_dir, "pids", "redis.pid")).Split(' ')[0].Trim();
        using var kill = Process.Start("kill", ["-" + signal, pid])!;
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {pid} failed");
    }

    /// <summary>Starts every node that is not running (a test that killed one and failed before restarting it).</summary>
    public async Task AllNodesUpAsync()
    {
        var (code, status) = await RunScriptAsync(TimeSpan.FromMinutes(1), "status");
        Assert.True(code == 0, status);
        foreach (Match stopped in StoppedNode().Matches(status)) await StartNodeAsync(int.Parse(stopped.Groups[1].Value));
    }

    /// <summary>What <c>status</c> says, for failure messages.</summary>
    public async Task<string> StatusAsync() => (await RunScriptAsync(TimeSpan.FromMinutes(1), "status")).Output;

    /// <summary>How many lines a node's log holds now, so a test can read only what it writes after.</summary>
    public int NodeLogLength(string node) => File.Exists(LogPath(node)) ? File.ReadLines(LogPath(node)).Count() : 0;

    /// <summary>The lines a node wrote after its first <paramref name="skip"/>.</summary>
    public IReadOnlyList<string> NodeLogSince(string node, int skip) => File.Exists(LogPath(node)) ? File.ReadLines(LogPath(node)).Skip(skip).ToList() : [];

    /// <summary>The last lines a node wrote, for failure messages.</summary>
    public string NodeLogTail(string node, int lines = 20) => File.Exists(LogPath(node)) ? string.Join('\n', File.ReadLines(LogPath(node)).TakeLast(lines)) : "";

    /// <summary>A node's own address, past nginx, to ask that node rather than any.</summary>
    public Uri NodeAddress(int node) => new($"http://127.0.0.1:{_state[$"NODE{node}_PORT"]}/");

    private string LogPath(string node) => Path.Combine(_dir, "logs", node + ".log");

    private async Task<(int ExitCode, string Output)> RunScriptAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(_root, "deploy", "cluster.sh"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["QUIZ_CLUSTER_DIR"] = _dir;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"deploy/cluster.sh {string.Join(' ', args)} outlived {timeout}:\n{await stderr}\n{await stdout}");
        }
        return (process.ExitCode, (await stderr) + (await stdout));
    }

    /// <summary>
    /// A test host that is killed must not leave a cluster running: a small shell of its own
    /// session waits for this process to end, then brings the cluster down and removes its folder
    /// (when the fixture did so already, it finds nothing to do).
    /// </summary>
    private void StartReaper()
    {
        var script = $$"""
            while kill -0 {{Environment.ProcessId}} 2>/dev/null; do sleep 1; done
            [ -d '{{_dir}}' ] && QUIZ_CLUSTER_DIR='{{_dir}}' '{{_root}}/deploy/cluster.sh' down >/dev/null 2>&1
            rm -rf '{{_dir}}'
            """;
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "sh", "-c", script }) start.ArgumentList.Add(a);
        using var reaper = Process.Start(start)!;
    }

    private static Dictionary<string, string> ReadEnv(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0 && l[0] != '#' && l.Contains('='))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Quiz.sln"))) return dir.FullName;
        throw new InvalidOperationException("Quiz.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^cluster up: (http://127\.0\.0\.1:\d+) nodes=(\d+)$")]
    private static partial Regex UpLine();

    [GeneratedRegex(@"^quiz(\d+) port=\d+ stopped$", RegexOptions.Multiline)]
    private static partial Regex StoppedNode();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
