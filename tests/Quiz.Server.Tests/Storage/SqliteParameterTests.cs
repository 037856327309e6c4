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

    // ---- the writer's connection: each text compiled once (PrefixedSqliteConnection, keepStatements) ----

    private async Task<PrefixedSqliteConnection> WriterWithTableAsync()
    {
        var connection = (PrefixedSqliteConnection)await _database.OpenWriterAsync();
        await connection.ExecuteAsync("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
        return connection;
    }

    [Fact]
    public async Task TheWritersConnectionKeepsALargerPageCacheThanAReadersConnection()
    {
        // The writer's inserts land on random index pages; a reader's cache is emptied whenever the
        // database changed, so only the writer is given the larger one (Database.WriterCache).
        await using var writer = await _database.OpenWriterAsync();
        await using var reader = await _database.OpenAsync();
        Assert.Equal(-65536L, await writer.ExecuteScalarAsync<long>("PRAGMA cache_size"));
        Assert.Equal(-2000L, await reader.ExecuteScalarAsync<long>("PRAGMA cache_size"));
    }

    [Fact]
    public async Task TheWritersConnectionCompilesATextOnceAndBindsEachExecutionsOwnValues()
    {
        await using var connection = await WriterWithTableAsync();
        async Task WriteAndReadAsync(int from, int to)
        {
            await using var tx = await connection.BeginTransactionAsync();
            for (var i = from; i <= to; i++)
            {
                await connection.ExecuteAsync("INSERT INTO t (id, name) VALUES (@Id, @Name)", new { Id = i, Name = $"n{i}" }, tx);
                Assert.Equal($"n{i}", await connection.ExecuteScalarAsync<string>("SELECT name FROM t WHERE id = @Id", new { Id = i }, tx));
            }
            await tx.CommitAsync();
        }
        await WriteAndReadAsync(1, 1);
        var compiled = connection.Compiled; // the insert, the read, and the transaction's BEGIN and COMMIT
        await WriteAndReadAsync(2, 50);
        Assert.Equal(compiled, connection.Compiled);
        Assert.Equal(50, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM t WHERE name = 'n' || id"));
        // The ordinary connections compile nothing ahead: theirs are the commands Dapper makes.
        await using var other = (PrefixedSqliteConnection)await _database.OpenAsync();
        await other.ExecuteScalarAsync<long>("SELECT count(*) FROM t");
        Assert.Equal(0, other.Compiled);
    }

    [Fact]
    public async Task AParameterNotGivenIsRefusedRatherThanTakenFromTheLastExecution()
    {
        await using var connection = await WriterWithTableAsync();
        await connection.ExecuteAsync("INSERT INTO t (id, name) VALUES (@Id, @Name)", new { Id = 1, Name = "甲" });
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.ExecuteAsync("INSERT INTO t (id, name) VALUES (@Id, @Name)", new { Id = 2 }));
        Assert.Equal(["甲"], await connection.QueryAsync<string>("SELECT name FROM t"));
    }

    [Fact]
    public async Task ATextOfSeveralStatementsBindsEachOneWithThisExecutionsValues()
    {
        await using var connection = await WriterWithTableAsync();
        await connection.ExecuteAsync("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
        const string Sql = "SELECT name FROM t WHERE id = @First; SELECT count(*) FROM t WHERE id >= @From";
        foreach (var (first, from, name, count) in new[] { (1, 1, "a", 3L), (3, 2, "c", 2L), (2, 3, "b", 1L) })
        {
            using var read = await connection.QueryMultipleAsync(Sql, new { First = first, From = from });
            Assert.Equal(name, await read.ReadSingleAsync<string>());
            Assert.Equal(count, await read.ReadSingleAsync<long>());
        }
    }

    [Fact]
    public async Task ATextStillBeingReadRunsAgainBesideItsKeptStatement()
    {
        await using var connection = await WriterWithTableAsync();
        await connection.ExecuteAsync("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
        const string Sql = "SELECT name FROM t WHERE id >= @From ORDER BY id";
        await using var open = await connection.ExecuteReaderAsync(Sql, new { From = 2 });
        Assert.True(await open.ReadAsync());
        Assert.Equal(["a", "b", "c"], await connection.QueryAsync<string>(Sql, new { From = 1 }));
        Assert.Equal("b", open.GetString(0));
        Assert.True(await open.ReadAsync());
        Assert.Equal("c", open.GetString(0));
    }

    [Fact]
    public async Task AStatementThatFailedRunsAgainAfterwards()
    {
        await using var connection = await WriterWithTableAsync();
        const string Insert = "INSERT INTO t (id, name) VALUES (@Id, @Name)";
        await connection.ExecuteAsync(Insert, new { Id = 1, Name = "a" });
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => connection.ExecuteAsync(Insert, new { Id = 1, Name = "again" }));
        await connection.ExecuteAsync(Insert, new { Id = 2, Name = "b" });
        Assert.Equal(["a", "b"], await connection.QueryAsync<string>("SELECT name FROM t ORDER BY id"));
    }

    [Fact]
    public async Task TheKeptTextsAreBoundedAndStillAnswerRightPastTheBound()
    {
        await using var connection = await WriterWithTableAsync();
        // As Dapper's list expansion makes them: a text a length.
        for (var n = 1; n <= PrefixedSqliteConnection.KeptLimit + 20; n++)
            Assert.Equal(n + 1, await connection.ExecuteScalarAsync<long>($"SELECT @x + {n}", new { x = 1 }));
        Assert.True(connection.Kept <= PrefixedSqliteConnection.KeptLimit, $"{connection.Kept} texts kept");
    }

    [Fact]
    public async Task MakingRoomForNewTextsLeavesAReaderStillOpenReading()
    {
        await using var connection = await WriterWithTableAsync();
        await connection.ExecuteAsync("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')");
        await using var open = await connection.ExecuteReaderAsync("SELECT name FROM t WHERE id >= @From ORDER BY id", new { From = 1 });
        Assert.True(await open.ReadAsync());
        for (var n = 1; n <= PrefixedSqliteConnection.KeptLimit + 20; n++)
            await connection.ExecuteScalarAsync<long>($"SELECT @x + {n}", new { x = 1 });
        Assert.Equal("a", open.GetString(0));
        Assert.True(await open.ReadAsync());
        Assert.Equal("b", open.GetString(0));
    }
}
