using System.Data.Common;
using System.Threading.Channels;

namespace Quiz.Server.Storage;

/// <summary>
/// Where a group commit's wall time went: <paramref name="Flush"/> the COMMIT alone (the fsync);
/// <paramref name="Cpu"/> the writer thread's CPU and <paramref name="RunQueue"/> its time runnable
/// but waiting for a core, where the batch ran on one thread (SQLite on Linux); <paramref name="GcPause"/>
/// the process's garbage-collection pauses meanwhile. The rest is waiting on something else (I/O, locks).
/// </summary>
public readonly record struct BatchTiming(int Count, TimeSpan Took, TimeSpan Flush, TimeSpan? Cpu, TimeSpan? RunQueue, TimeSpan GcPause);

/// <summary>
/// Group commit (rule 2): writes that arrive together are applied in one transaction by one
/// writer, and each caller awaits its own result. One fsync then serves a whole burst, and the
/// single writer never fights other writers of its kind for SQLite's write lock.
/// </summary>
public sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    private sealed record Pending(TItem Item, TaskCompletionSource<TResult> Done);

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(100_000) { SingleReader = true });
    private readonly Database _database;
    private readonly Func<DbConnection, DbTransaction, IReadOnlyList<TItem>, Task<TResult[]>> _apply;
    private readonly Action<BatchTiming>? _committed;
    private readonly ILogger _logger;
    private readonly int _maxBatch;
    private readonly Task _loop;
    private static int _priorityLogged;

    /// <param name="apply">Writes a batch's items inside its transaction (one by one, or set-based where that pays) and returns each item's result, in order.</param>
    /// <param name="committed">Told each batch's size and where its time went (<see cref="BatchTiming"/>): metrics.</param>
    public GroupCommit(Database database, Func<DbConnection, DbTransaction, IReadOnlyList<TItem>, Task<TResult[]>> apply, ILogger logger,
        Action<BatchTiming>? committed = null, int maxBatch = 512)
    {
        _database = database;
        _apply = apply;
        _logger = logger;
        _committed = committed;
        _maxBatch = maxBatch;
        // A thread of its own, not a pool thread: on SQLite a batch runs synchronously from start
        // to COMMIT, and this thread can be given a priority (WriterPriority) that pool threads cannot.
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var priority = WriterPriority.Raise();
                if (Interlocked.Exchange(ref _priorityLogged, 1) == 0) logger.LogInformation("The store writer runs with {Priority}", priority);
                Run();
                stopped.TrySetResult();
            }
            catch (Exception e) { stopped.TrySetException(e); }
        }) { IsBackground = true, Name = "store writer" };
        thread.Start();
        _loop = stopped.Task;
    }

    /// <summary>Completes once the item is committed (or throws why it could not be).</summary>
    public async Task<TResult> CommitAsync(TItem item, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Pending(item, done), ct);
        return await done.Task;
    }

    private void Run()
    {
        var batch = new List<Pending>(_maxBatch);
        // Only on SQLite, whose calls complete synchronously on this thread, is a batch's CPU time
        // this thread's: on PostgreSQL it runs on pool threads while this one waits.
        using var cpu = _database.IsPostgres ? null : Diagnostics.ThreadCpu.OfCurrentThread();
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var more)) batch.Add(more);
            if (batch.Count == 0) continue;
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var (sched, paused) = (cpu?.Read(), GC.GetTotalPauseDuration());
                var (results, commit) = ApplyAsync(batch).GetAwaiter().GetResult();
                var end = sched is not null ? cpu!.Read() : null;
                _committed?.Invoke(new BatchTiming(batch.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started), commit,
                    end?.Cpu - sched?.Cpu, end?.RunQueue - sched?.RunQueue, GC.GetTotalPauseDuration() - paused));
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception batchError) when (batch.Count > 1)
            {
                _database.ForgetBrokenConnections(batchError);
                // One bad item must not fail its neighbours: retry each alone.
                _logger.LogWarning(batchError, "A batch of {Count} writes failed; committing them one by one", batch.Count);
                foreach (var pending in batch)
                {
                    try { pending.Done.TrySetResult(ApplyAsync([pending]).GetAwaiter().GetResult().Results[0]); }
                    catch (Exception e)
                    {
                        _database.ForgetBrokenConnections(e);
                        pending.Done.TrySetException(e);
                    }
                }
            }
            catch (Exception e)
            {
                _database.ForgetBrokenConnections(e);
                batch[0].Done.TrySetException(e);
            }
        }
    }

    /// <summary>The advisory lock every node's group commit takes in turn on PostgreSQL ("QUIZCMT").</summary>
    public const long CommitTurnLock = 0x5155_495A_434D_54;

    /// <summary>
    /// SQLite: the writer's own connection, open from batch to batch so each statement is compiled
    /// once (<see cref="Database.OpenWriterAsync"/>); closed after a failed batch and opened afresh.
    /// </summary>
    private DbConnection? _kept;

    private async Task<(TResult[] Results, TimeSpan Commit)> ApplyAsync(List<Pending> batch)
    {
        if (_database.IsPostgres)
        {
            await using var pooled = await _database.OpenAsync();
            return await ApplyAsync(pooled, batch);
        }
        _kept ??= await _database.OpenWriterAsync();
        try { return await ApplyAsync(_kept, batch); }
        catch
        {
            await _kept.DisposeAsync();
            _kept = null;
            throw;
        }
    }

    private async Task<(TResult[] Results, TimeSpan Commit)> ApplyAsync(DbConnection connection, List<Pending> batch)
    {
        await using var tx = await connection.BeginTransactionAsync();
        if (_database.IsPostgres)
        {
            // Nodes take turns to commit, so ids drawn from an identity (results.id) become visible
            // in the order they were drawn, as on SQLite's single writer: the ranking and the
            // projections catch up by "id > watermark" and would skip a lower id committed later.
            await using var turn = connection.CreateCommand();
            turn.Transaction = tx;
            turn.CommandText = $"SELECT pg_advisory_xact_lock({CommitTurnLock})";
            await turn.ExecuteNonQueryAsync();
        }
        var results = await _apply(connection, tx, batch.ConvertAll(p => p.Item));
        var committing = System.Diagnostics.Stopwatch.GetTimestamp();
        await tx.CommitAsync();
        return (results, System.Diagnostics.Stopwatch.GetElapsedTime(committing));
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        if (_kept is not null) await _kept.DisposeAsync();
    }
}
