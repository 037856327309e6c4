using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Quiz.Server.Storage;

/// <summary>
/// Opens connections to the store. SQLite in WAL mode: readers never block the one writer, and a
/// committed transaction survives a killed process.
/// </summary>
public sealed class Database
{
    private readonly string _connectionString;

    public Database(IOptions<StorageOptions> options)
    {
        var path = options.Value.DatabasePath;
        DataFolder.Create(Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        FilePath = path;
    }

    public string FilePath { get; }

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        // Per-connection settings: SQLite does not remember them in the file.
        // synchronous=FULL: a commit is on disk before we tell anyone it happened (rule 2);
        // group commit keeps the fsync count low.
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL;";
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }
}
