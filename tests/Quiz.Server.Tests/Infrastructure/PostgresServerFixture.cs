using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL 15 (Debian's package) of its own: a cluster made by initdb in a temporary
/// folder, served on a free loopback port with its socket in that folder, removed on dispose. The
/// tests run as root and PostgreSQL refuses root, so as root it runs as the postgres user. It can
/// be stopped and started again on the same port and data (an outage: committed data survives).
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _dir = Path.Combine("/tmp", "quiz-pg-" + Guid.NewGuid().ToString("N"));
    private Process? _process;
    public int Port { get; } = ServerProcess.FreePort();

    /// <summary>The suite's store when the tests run with QUIZ_TEST_STORE=postgres.</summary>
    public static bool TestStoreIsPostgres { get; } =
        string.Equals(Environment.GetEnvironmentVariable("QUIZ_TEST_STORE"), "postgres", StringComparison.OrdinalIgnoreCase);

    private static readonly Lazy<PostgresServerFixture> SharedServer = new(() =>
    {
        var server = new PostgresServerFixture();
        server.InitializeAsync().GetAwaiter().GetResult();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().GetAwaiter().GetResult();
        return server;
    });

    /// <summary>One server for the whole run of the suite on PostgreSQL; each test class gets its own database on it.</summary>
    public static PostgresServerFixture Shared => SharedServer.Value;

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database, Timeout = 5, CommandTimeout = 30,
    }.ToString();

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(Bin, "initdb")))
            throw new InvalidOperationException("PostgreSQL 15 is not installed (apt-get install -y postgresql).");
        await RunAsync(Command(Path.Combine(Bin, "initdb"), "-D", _dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"));
        StartReaper();
        await StartAsync();
    }

    public async Task StartAsync()
    {
        // fsync off: these servers live for one test run; what the tests check (a commit before a
        // reply, nothing half-written after a node or the server stops) does not need the disk.
        var start = Command(Path.Combine(Bin, "postgres"), "-D", _dir, "-p", Port.ToString(), "-k", _dir,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=300",
            "-c", "shared_buffers=32MB");
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
                await connection.OpenAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(30) || _process.HasExited)
                    throw new InvalidOperationException($"PostgreSQL did not accept connections on port {Port}: {e.Message}");
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// A fast shutdown (SIGINT to the postmaster, as `pg_ctl stop` does): sessions are ended,
    /// transactions in flight rolled back, the server exits.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        var postmaster = int.Parse(File.ReadLines(Path.Combine(_dir, "postmaster.pid")).First());
        using (var kill = Process.Start("kill", ["-INT", postmaster.ToString()])) await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
        _process = null;
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>A database of its own for a store name (a test class's data folder, say): created the first time, the same one after.</summary>
    public string DatabaseFor(string key)
    {
        var name = "quiz_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..24];
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", name);
        if (exists.ExecuteScalar() is null)
        {
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            create.ExecuteNonQuery();
        }
        return ConnectionString(name);
    }

    /// <summary>A participant secret for servers on a shared store, which must be given one (a test's own value comes later and wins).</summary>
    public const string ParticipantSecret = "test-participant-secret";

    /// <summary>A server on a shared store must be given its admin key too; tests that call admin endpoints name their own.</summary>
    public const string AdminKey = "test-admin-key";

    /// <summary>
    /// The settings that put a server on this database, for a server process's command line: the
    /// store, and the secrets a node on a shared store must be given rather than generate.
    /// </summary>
    public string[] ServerSettings(string key) =>
    [
        "--Storage:Provider=Postgres", $"--Storage:ConnectionString={DatabaseFor(key)}",
        $"--Admin:ApiKey={AdminKey}", $"--Participants:Secret={ParticipantSecret}",
    ];

    public async Task DisposeAsync()
    {
        try { await StopAsync(); }
        catch (Exception) { _process?.Kill(entireProcessTree: true); }
        // The postmaster's children may still be closing files for a moment after it exits.
        for (var i = 0; i < 20 && Directory.Exists(_dir); i++)
        {
            try { Directory.Delete(_dir, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { await Task.Delay(100); }
        }
    }

    /// <summary>
    /// A test host that is killed, or that ends before the shared server's exit handler is done,
    /// must not leave a PostgreSQL running or its folder behind: a small shell of its own session
    /// waits for this process to end, then stops the server and removes the folder (when the
    /// fixture did so already, it finds nothing to do).
    /// </summary>
    private void StartReaper()
    {
        var script = $$"""
            while kill -0 {{Environment.ProcessId}} 2>/dev/null; do sleep 1; done
            [ -f '{{_dir}}/postmaster.pid' ] && kill -INT "$(head -n 1 '{{_dir}}/postmaster.pid')" 2>/dev/null
            for i in $(seq 100); do [ -f '{{_dir}}/postmaster.pid' ] || break; sleep 0.2; done
            rm -rf '{{_dir}}'
            """;
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "sh", "-c", script }) start.ArgumentList.Add(a);
        using var reaper = Process.Start(start)!;
    }

    /// <summary>The command as the postgres user when we are root (PostgreSQL refuses to run as root), else as ourselves.</summary>
    private static ProcessStartInfo Command(string program, params string[] args)
    {
        var root = Environment.UserName == "root";
        var start = new ProcessStartInfo(root ? "runuser" : program) { UseShellExecute = false };
        if (root) foreach (var a in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(a);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    private static async Task RunAsync(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{start.FileName} failed: {await errors}{await output}");
    }
}
