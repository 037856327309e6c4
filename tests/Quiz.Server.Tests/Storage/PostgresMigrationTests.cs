using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Storage;

/// <summary>The same numbered migrations on a real PostgreSQL, by several nodes starting at once.</summary>
public sealed class PostgresMigrationTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private Database NewNode(string database) =>
        new(Options.Create(new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = postgres.DatabaseFor(database) }));

    [Fact]
    public async Task NodesStartingTogetherApplyEachMigrationOnce()
    {
        var nodes = Enumerable.Range(0, 4).Select(_ => NewNode("together")).ToList();
        try
        {
            var applied = await Task.WhenAll(nodes.Select(n => new Migrator(n, NullLogger<Migrator>.Instance).MigrateAsync()));

            Assert.Equal(Migrator.All.Count, applied.Sum());
            await using var connection = await nodes[0].OpenAsync();
            Assert.Equal(Migrator.All.Select(m => m.Version), await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version"));
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task TheSchemaBehavesAsOnSqlite()
    {
        await using var database = NewNode("schema");
        await new Migrator(database, NullLogger<Migrator>.Instance).MigrateAsync();
        await using var connection = await database.OpenAsync();

        // Account names compare without case (COLLATE NOCASE), in lookups and in the key.
        await connection.ExecuteAsync("INSERT INTO accounts (name, password_hash, role, created_at) VALUES ('Admin', 'h', 'admin', 'now')");
        Assert.Equal("Admin", await connection.ExecuteScalarAsync<string>("SELECT name FROM accounts WHERE name = @name", new { name = "aDMIN" }));
        Assert.Equal(0, await connection.ExecuteAsync("INSERT INTO accounts (name, password_hash, role, created_at) VALUES ('ADMIN', 'h', 'admin', 'now') ON CONFLICT (name) DO NOTHING"));

        // Integers read back as long (as SQLite's do), and the participant id is drawn by the store.
        await connection.ExecuteAsync("INSERT INTO regions (code, name, level, depth, headcount_base) VALUES ('R', 'r', 'province', 1, 10)");
        var id = await connection.ExecuteScalarAsync<object>("""
            INSERT INTO participants (mobile_hash, mobile_masked, nickname, region_code, track, registered_at)
            VALUES ('h1', 'm', 'n', 'R', 'general', 'now') RETURNING id
            """);
        Assert.IsType<long>(id);
        Assert.IsType<long>(await connection.ExecuteScalarAsync<object>("SELECT headcount_base FROM regions"));
        // One number, one participant.
        Assert.Null(await connection.ExecuteScalarAsync<long?>("""
            INSERT INTO participants (mobile_hash, mobile_masked, nickname, region_code, track, registered_at)
            VALUES ('h1', 'm', 'other', 'R', 'general', 'now') ON CONFLICT (mobile_hash) DO NOTHING RETURNING id
            """));
    }
}
