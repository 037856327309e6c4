using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Quiz.Server.Storage;

/// <summary>
/// Opens connections to the store: the seam between the embedded SQLite file and a PostgreSQL
/// shared by many nodes. The SQL above it is written once for both (a few statements switch on
/// <see cref="IsPostgres"/> where the dialects cannot meet); the migrations get a dialect rewrite
/// (<see cref="Migrator"/>).
/// SQLite runs in WAL mode: readers never block the one writer, and a committed transaction
/// survives a killed process. PostgreSQL keeps its default synchronous_commit = on: a COMMIT
/// returns once it is flushed to the WAL, so rule 2 holds there too.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly string _sqlite = "";
    private readonly NpgsqlDataSource? _postgres;

    public Database(IOptions<StorageOptions> options)
    {
        var settings = options.Value;
        settings.Validate();
        Provider = settings.Provider;
        if (Provider == StorageProvider.Postgres)
        {
            _postgres = NpgsqlDataSource.Create(WithAutoPrepare(settings.ConnectionString!));
            FilePath = "";
            return;
        }
        var path = settings.DatabasePath;
        DataFolder.Create(Path.GetDirectoryName(path)!);
        _sqlite = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        FilePath = path;
    }

    public StorageProvider Provider { get; }

    /// <summary>
    /// Npgsql prepares a statement on a pooled connection once it has run there twice, and runs it
    /// prepared after that, instead of PostgreSQL parsing and planning it at every execution (the
    /// store's statements are a few dozen texts run millions of times: BENCHMARKS.md, "The
    /// writer's statements compiled once, on PostgreSQL"). Unless the connection string says
    /// otherwise (<c>Max Auto Prepare=0</c> turns it off).
    /// </summary>
    internal static string WithAutoPrepare(string connectionString)
    {
        if (System.Text.RegularExpressions.Regex.IsMatch(connectionString, @"auto\s*prepare", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
            return connectionString;
        return new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 }.ConnectionString;
    }

    public bool IsPostgres => Provider == StorageProvider.Postgres;

    /// <summary>The SQLite file; empty on PostgreSQL.</summary>
    public string FilePath { get; }

    public Task<DbConnection> OpenAsync(CancellationToken ct = default) => OpenAsync(writer: false, ct);

    /// <summary>
    /// The store writer's connection, which it keeps open: on SQLite each SQL text it runs is
    /// compiled once (<see cref="PrefixedSqliteConnection"/>); on PostgreSQL a pooled connection
    /// like any other.
    /// </summary>
    public Task<DbConnection> OpenWriterAsync(CancellationToken ct = default) => OpenAsync(writer: true, ct);

    /// <summary>
    /// The writer's page cache: 64 MiB instead of SQLite's 2 MiB. Its inserts land on random pages
    /// of the indexes keyed by person or question, so with 2 MiB most of them were read back from
    /// the OS at every batch (a pread a page). Only the writer gains: a reader's cache is emptied
    /// whenever a read transaction finds the database changed, which under play is every time.
    /// </summary>
    private const string WriterCache = " PRAGMA cache_size = -65536;";

    private async Task<DbConnection> OpenAsync(bool writer, CancellationToken ct)
    {
        if (_postgres is not null) return await _postgres.OpenConnectionAsync(ct);
        var connection = new PrefixedSqliteConnection(_sqlite, keepStatements: writer);
        await connection.OpenAsync(ct);
        // Per-connection settings: SQLite does not remember them in the file.
        // synchronous=FULL: a commit is on disk before we tell anyone it happened (rule 2);
        // group commit keeps the fsync count low.
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL;"
            + (writer ? WriterCache : "");
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    /// <summary>
    /// "column IN list" for a list parameter. Dapper expands <c>IN @list</c> into one parameter per
    /// item on SQLite, but hands Npgsql the whole array as one parameter, which PostgreSQL takes
    /// only as <c>= ANY(@list)</c>.
    /// </summary>
    public string InList(string parameter) => IsPostgres ? $"= ANY(@{parameter})" : $"IN @{parameter}";

    /// <summary><see cref="InList(string)"/> for code that holds only a connection.</summary>
    public static string InList(System.Data.Common.DbConnection connection, string parameter) =>
        connection is Npgsql.NpgsqlConnection ? $"= ANY(@{parameter})" : $"IN @{parameter}";

    /// <summary>
    /// After PostgreSQL went away and came back, every idle pooled connection is dead: drop them
    /// all at once rather than let each fail one request.
    /// </summary>
    public void ForgetBrokenConnections(Exception e)
    {
        if (_postgres is not null && e is NpgsqlException { IsTransient: true }) _postgres.Clear();
    }

    public ValueTask DisposeAsync() => _postgres?.DisposeAsync() ?? ValueTask.CompletedTask;
}
