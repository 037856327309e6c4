using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;

namespace Quiz.Server.Storage;

/// <summary>
/// Applies the numbered SQL files in Storage/Migrations (embedded in the assembly) that the store
/// has not seen yet, each in its own transaction, in order. Works on a fresh store and on an older
/// one. On PostgreSQL the nodes starting together take turns (an advisory lock), and each file is
/// rewritten to the dialect (<see cref="ToPostgres"/>) unless a <c>NNNN_name.postgres.sql</c>
/// beside it says what to run instead.
/// </summary>
public sealed partial class Migrator(Database database, ILogger<Migrator> logger)
{
    public sealed record Migration(int Version, string Name, string Sql, string? PostgresSql = null)
    {
        public string SqlFor(Database database) => database.IsPostgres ? PostgresSql ?? ToPostgres(Sql) : Sql;
    }

    public static IReadOnlyList<Migration> All { get; } = Load();

    /// <summary>Any number, the same on every node: the key of the advisory lock the migrations run under.</summary>
    private const long MigrationLock = 0x5155_495A_4D49_47; // "QUIZMIG"

    public async Task<int> MigrateAsync(int? upTo = null, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        if (!database.IsPostgres)
        {
            // WAL is a property of the file, so setting it once here is enough.
            await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");
            return await ApplyAsync(connection, upTo, ct);
        }
        // A session lock: held across the per-migration transactions, released when we are done
        // (or when the connection dies with a node that was killed while migrating).
        await connection.ExecuteAsync("SELECT pg_advisory_lock(@MigrationLock)", new { MigrationLock });
        try { return await ApplyAsync(connection, upTo, ct); }
        finally { await connection.ExecuteAsync("SELECT pg_advisory_unlock(@MigrationLock)", new { MigrationLock }); }
    }

    private async Task<int> ApplyAsync(System.Data.Common.DbConnection connection, int? upTo, CancellationToken ct)
    {
        await connection.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """);
        var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_migrations")).ToHashSet();
        var count = 0;
        foreach (var migration in All.Where(m => !applied.Contains(m.Version) && m.Version <= (upTo ?? int.MaxValue)))
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(migration.SqlFor(database), transaction: tx);
            await connection.ExecuteAsync(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @At)",
                new { migration.Version, migration.Name, At = DateTimeOffset.UtcNow.ToString("O") }, tx);
            await tx.CommitAsync(ct);
            logger.LogInformation("Applied migration {Version} {Name}", migration.Version, migration.Name);
            count++;
        }
        return count;
    }

    /// <summary>
    /// The SQLite schema in PostgreSQL's words. Every INTEGER becomes bigint, so a column reads back
    /// as the <c>long</c> SQLite gives (Dapper maps records by exact type) and the code stays one;
    /// booleans stay 0/1 integers on both for the same reason. A rowid key becomes an identity:
    /// results.id then still follows commit order, since the group commit serialises the writers
    /// (<see cref="GroupCommit{TItem,TResult}"/>). Timestamps stay ISO-8601 TEXT, which sorts and
    /// compares the same on both. COLLATE NOCASE needs a collation of that name (0003's dialect
    /// file creates it) written right after the type, where PostgreSQL wants it.
    /// </summary>
    public static string ToPostgres(string sql)
    {
        sql = RowidKey().Replace(sql, "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
        sql = CollateAfterType().Replace(sql, "TEXT COLLATE nocase$1");
        return IntegerType().Replace(sql, "bigint");
    }

    private static List<Migration> Load()
    {
        var assembly = typeof(Migrator).Assembly;
        var files = new Dictionary<(int Version, string Name), (string? Sql, string? Postgres)>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = MigrationName().Match(resource);
            if (!match.Success) continue;
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            var key = (int.Parse(match.Groups[1].Value), match.Groups[2].Value);
            var found = files.GetValueOrDefault(key);
            files[key] = match.Groups[3].Success ? found with { Postgres = reader.ReadToEnd() } : found with { Sql = reader.ReadToEnd() };
        }
        var migrations = files.Select(f => new Migration(f.Key.Version, f.Key.Name,
            f.Value.Sql ?? throw new InvalidOperationException($"Migration {f.Key.Version:0000}_{f.Key.Name} has a PostgreSQL file but no SQLite one."),
            f.Value.Postgres)).ToList();
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        if (migrations.Select(m => m.Version).Distinct().Count() != migrations.Count)
            throw new InvalidOperationException("Two migrations share a version number.");
        return migrations;
    }

    [GeneratedRegex(@"Migrations\.(\d{4})_([A-Za-z0-9_]+?)(\.postgres)?\.sql$")]
    private static partial Regex MigrationName();

    [GeneratedRegex(@"\bINTEGER PRIMARY KEY( AUTOINCREMENT)?")]
    private static partial Regex RowidKey();

    [GeneratedRegex(@"\bTEXT\b([^,\n]*?) COLLATE NOCASE")]
    private static partial Regex CollateAfterType();

    [GeneratedRegex(@"\bINTEGER\b")]
    private static partial Regex IntegerType();
}
