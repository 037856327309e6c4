using System.Data.Common;
using Quiz.Server.Diagnostics;

namespace Quiz.Server.Storage;

/// <summary>
/// The store's one writer (rule 2). Rounds, registrations and projections all write through it,
/// so they never contend for SQLite's single write lock (whose busy-wait sleeps up to 100 ms),
/// and whatever arrives together shares one transaction and one fsync.
/// <para>
/// A write is either a piece of code run alone inside the group's transaction, or an item of a
/// <see cref="WriteKind{TItem,TResult}"/>: the items of one kind that arrive together are written
/// by one call, set-based. On PostgreSQL every statement is a round trip to another process, so a
/// burst's finishes cost a few statements a group instead of a few each.
/// </para>
/// </summary>
public sealed class StoreWriter : IAsyncDisposable
{
    /// <summary>One write waiting for its group: its kind (null for code run alone), what to write, and where its result goes.</summary>
    private sealed record Write(IWriteKind? Kind, object? Item, Func<DbConnection, DbTransaction, Task<object?>>? Run);

    private readonly GroupCommit<Write, object?> _commits;

    public StoreWriter(Database database, QuizMetrics metrics, ILogger<StoreWriter> logger)
    {
        _commits = new(database, ApplyAsync, logger, batch =>
        {
            metrics.StoreBatchSize.Record(batch.Count);
            metrics.StoreCommit.Record(batch.Took.TotalMilliseconds);
            metrics.StoreFlush.Record(batch.Flush.TotalMilliseconds);
            if (batch.Cpu is { } cpu) metrics.StoreCpu.Record(cpu.TotalMilliseconds);
            if (batch.RunQueue is { } waited) metrics.StoreRunQueue.Record(waited.TotalMilliseconds);
            metrics.StoreGcPause.Record(batch.GcPause.TotalMilliseconds);
        });
    }

    /// <summary>Runs <paramref name="write"/> inside the next group transaction; completes once it is committed.</summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write, CancellationToken ct = default) =>
        (T)(await _commits.CommitAsync(new Write(null, null, async (connection, tx) => await write(connection, tx)), ct))!;

    /// <summary>Writes <paramref name="item"/> with the others of its kind in the next group transaction; completes once it is committed.</summary>
    public async Task<TResult> WriteAsync<TItem, TResult>(WriteKind<TItem, TResult> kind, TItem item, CancellationToken ct = default) =>
        (TResult)(await _commits.CommitAsync(new Write(kind, item, null), ct))!;

    /// <summary>
    /// The group's writes: code run alone in arrival order, and each kind's items in one call. Items
    /// that depend on each other never share a group (a finish waits for its start's commit, a
    /// projection for the finish's event), so the order between kinds does not matter.
    /// </summary>
    private static async Task<object?[]> ApplyAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<Write> writes)
    {
        var results = new object?[writes.Count];
        Dictionary<IWriteKind, List<int>>? kinds = null;
        for (var i = 0; i < writes.Count; i++)
        {
            if (writes[i].Run is { } run) results[i] = await run(connection, tx);
            else
            {
                kinds ??= [];
                if (!kinds.TryGetValue(writes[i].Kind!, out var positions)) kinds[writes[i].Kind!] = positions = [];
                positions.Add(i);
            }
        }
        if (kinds is null) return results;
        foreach (var (kind, positions) in kinds)
        {
            var written = await kind.ApplyAsync(connection, tx, positions.ConvertAll(i => writes[i].Item));
            for (var j = 0; j < positions.Count; j++) results[positions[j]] = written[j];
        }
        return results;
    }

    public ValueTask DisposeAsync() => _commits.DisposeAsync();
}

internal interface IWriteKind
{
    Task<object?[]> ApplyAsync(DbConnection connection, DbTransaction tx, List<object?> items);
}

/// <summary>
/// A kind of write whose items arriving together are written by one set-based call (a batch of
/// finishes: one INSERT of every result, one of every answer). <paramref name="apply"/> returns
/// each item's result in the order of the items.
/// </summary>
public sealed class WriteKind<TItem, TResult>(Func<DbConnection, DbTransaction, IReadOnlyList<TItem>, Task<TResult[]>> apply) : IWriteKind
{
    async Task<object?[]> IWriteKind.ApplyAsync(DbConnection connection, DbTransaction tx, List<object?> items)
    {
        var results = await apply(connection, tx, items.ConvertAll(i => (TItem)i!));
        if (results.Length != items.Count) throw new InvalidOperationException($"a write kind returned {results.Length} results for {items.Count} items");
        return Array.ConvertAll(results, r => (object?)r);
    }
}
