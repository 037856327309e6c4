using System.Data.Common;
using Quiz.Server.Diagnostics;

namespace Quiz.Server.Storage;

/// <summary>
/// The store's one writer (rule 2). Rounds, registrations and projections all write through it,
/// so they never contend for SQLite's single write lock (whose busy-wait sleeps up to 100 ms),
/// and whatever arrives together shares one transaction and one fsync.
/// </summary>
public sealed class StoreWriter : IAsyncDisposable
{
    private readonly GroupCommit<Func<DbConnection, DbTransaction, Task<object?>>, object?> _commits;

    public StoreWriter(Database database, QuizMetrics metrics, ILogger<StoreWriter> logger)
    {
        _commits = new(database, (connection, tx, write) => write(connection, tx), logger, (count, took, flush) =>
        {
            metrics.StoreBatchSize.Record(count);
            metrics.StoreCommit.Record(took.TotalMilliseconds);
            metrics.StoreFlush.Record(flush.TotalMilliseconds);
        });
    }

    /// <summary>Runs <paramref name="write"/> inside the next group transaction; completes once it is committed.</summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write, CancellationToken ct = default) =>
        (T)(await _commits.CommitAsync(async (connection, tx) => await write(connection, tx), ct))!;

    public ValueTask DisposeAsync() => _commits.DisposeAsync();
}
