using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Quiz.Server.Storage;

namespace Quiz.Server.Tests.Storage;

public sealed class MigrationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quiz-tests", Guid.NewGuid().ToString("N"));
    private readonly Database _database;
    private readonly Migrator _migrator;

    public MigrationTests()
    {
        _database = new Database(Options.Create(new StorageOptions { DataDir = _dir }));
        _migrator = new Migrator(_database, NullLogger<Migrator>.Instance);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task AFreshFileGetsEveryMigrationInWalMode()
    {
        var applied = await _migrator.MigrateAsync();

        Assert.Equal(Migrator.All.Count, applied);
        await using var connection = await _database.OpenAsync();
        Assert.Equal(Migrator.All.Select(m => m.Version), await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version"));
        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'question_versions'"));
    }

    [Fact]
    public async Task AnOlderFileIsBroughtUpToDateAndKeepsItsData()
    {
        await _migrator.MigrateAsync(upTo: 1);
        await using (var connection = await _database.OpenAsync())
        {
            await connection.ExecuteAsync("INSERT INTO questions (id, current_version, created_at, updated_at) VALUES ('OLD-1', 1, 'x', 'x')");
        }

        var applied = await _migrator.MigrateAsync();

        Assert.Equal(Migrator.All.Count - 1, applied);
        await using var after = await _database.OpenAsync();
        Assert.Equal("OLD-1", await after.ExecuteScalarAsync<string>("SELECT id FROM questions"));
        Assert.Equal(Migrator.All[^1].Version, await after.ExecuteScalarAsync<int>("SELECT MAX(version) FROM schema_migrations"));
    }

    [Fact]
    public async Task OptionCountsKeptAsJsonTextMoveIntoAColumnEach()
    {
        await _migrator.MigrateAsync(upTo: 18);
        await using (var connection = await _database.OpenAsync())
        {
            await connection.ExecuteAsync("INSERT INTO question_stats (question_id, question_version, answered, correct, option_counts) VALUES ('Q-1', 2, 7, 4, '[3,1,0,2,0,0,0,9]')");
            await connection.ExecuteAsync("INSERT INTO question_stats (question_id, question_version, answered, correct) VALUES ('Q-2', 1, 0, 0)");
        }

        await _migrator.MigrateAsync();

        await using var after = await _database.OpenAsync();
        var rows = (await after.QueryAsync<(string Id, long Answered, long Correct, long A, long B, long C, long D, long E, long F, long G, long H)>(
            $"SELECT question_id, answered, correct, {Quiz.Server.Events.QuestionStatsConsumer.ChosenColumns} FROM question_stats ORDER BY question_id")).ToList();
        Assert.Equal([("Q-1", 7L, 4L, 3L, 1L, 0L, 2L, 0L, 0L, 0L, 9L), ("Q-2", 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L)], rows);
        Assert.Equal(0, await after.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM pragma_table_info('question_stats') WHERE name = 'option_counts'"));
    }

    [Fact]
    public async Task MigratingTwiceDoesNothingTheSecondTime()
    {
        await _migrator.MigrateAsync();
        Assert.Equal(0, await _migrator.MigrateAsync());
    }

    [Fact]
    public void MigrationsAreNumberedWithoutGaps()
    {
        Assert.Equal(Enumerable.Range(1, Migrator.All.Count), Migrator.All.Select(m => m.Version));
    }
}
