using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Quiz.Server.Storage;

namespace Quiz.Server.Tests.Storage;

/// <summary>The store's SQLite commands name Dapper's parameters as the SQL writes them (PrefixedSqliteConnection).</summary>
public sealed class SqliteParameterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quiz-tests", Guid.NewGuid().ToString("N"));
    private readonly Database _database;

    public SqliteParameterTests() => _database = new Database(Options.Create(new StorageOptions { DataDir = _dir }));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ABareNameGetsTheAtPrefixAndAPrefixedOneIsKept()
    {
        await using var connection = await _database.OpenAsync();
        await using var command = connection.CreateCommand();
        DbParameter bare = command.CreateParameter(), dollar = command.CreateParameter();
        bare.ParameterName = "RoundId";
        dollar.ParameterName = "$day";
        Assert.Equal(("@RoundId", "$day"), (bare.ParameterName, dollar.ParameterName));
    }

    [Fact]
    public async Task DappersParametersBindInsideAndOutsideATransaction()
    {
        await using var connection = await _database.OpenAsync();
        await connection.ExecuteAsync("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync("INSERT INTO t (id, name) VALUES (@Id, @Name)", new { Id = 1, Name = "甲" }, tx);
            // Dapper's expansion of a list: one parameter an item (ids1, ids2, ...).
            await connection.ExecuteAsync("INSERT INTO t (id, name) SELECT id + 10, name FROM t WHERE id IN @ids", new { ids = new[] { 1, 2 } }, tx);
            await tx.CommitAsync();
        }
        Assert.Equal(["甲", "甲"], await connection.QueryAsync<string>("SELECT name FROM t WHERE id IN (@a, @b) ORDER BY id", new { a = 1, b = 11 }));
        // A name the statement does not have still fails loudly, as before.
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.ExecuteAsync("SELECT @missing"));
    }
}
