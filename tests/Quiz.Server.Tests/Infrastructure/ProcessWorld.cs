using Microsoft.Data.Sqlite;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// A data folder and a small question bank on disk for tests that run the real server as a
/// process (<see cref="ServerProcess"/>): the PlayWorld's questions, units and campaign, open on
/// whatever day the test runs.
/// </summary>
public sealed class ProcessWorld : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quiz-tests", "proc-" + Guid.NewGuid().ToString("N"));
    public string DataDir => Path.Combine(_root, "data");
    public string BankDir => Path.Combine(_root, "bank");

    public static readonly string[] Unlimited =
    [
        "--RateLimits:RegistrationsPerMinutePerAddress=100000", "--RateLimits:RoundStartsPerMinutePerParticipant=100000",
        "--RateLimits:RoundStartsPerMinutePerAddress=1000000",
    ];

    public ProcessWorld(int attemptsPerDay = 100, int roundSeconds = 600)
    {
        Directory.CreateDirectory(DataDir);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        PlayWorld.WriteBank(BankDir, PlayWorld.Campaign(s => s with
        {
            StartDay = today.AddDays(-2), EndDay = today.AddDays(2), AttemptsPerDay = attemptsPerDay, RoundSeconds = roundSeconds,
        }));
    }

    public Task<ServerProcess> StartServerAsync(params string[] settings) =>
        ServerProcess.StartAsync(DataDir, BankDir, [.. Unlimited, .. settings]);

    /// <summary>Registers a new participant over HTTP, as a phone would (the code read from the server's log), and returns their token.</summary>
    public static async Task<string> RegisterAsync(ServerProcess server, HttpClient http, int i, string region, string? organisation = null) =>
        (await PlayWorld.RegisterAsync(http, server.Codes,
            new { nickname = $"玩家{i}", mobile = PlayWorld.NextMobile(), regionCode = region, organisationCode = organisation, track = "general" })).Token;

    /// <summary>The store the servers of this world use, to look at it directly.</summary>
    public System.Data.Common.DbConnection OpenStore() => PostgresServerFixture.TestStoreIsPostgres
        ? new Npgsql.NpgsqlConnection(PostgresServerFixture.Shared.DatabaseFor(DataDir))
        : new SqliteConnection($"Data Source={Path.Combine(DataDir, "quiz.db")}");

    /// <summary>This world's database on a PostgreSQL server of the test's own.</summary>
    public System.Data.Common.DbConnection OpenStoreOn(PostgresServerFixture postgres) => new Npgsql.NpgsqlConnection(postgres.DatabaseFor(DataDir));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
