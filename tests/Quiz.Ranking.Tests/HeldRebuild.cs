namespace Quiz.Ranking.Tests;

/// <summary>
/// A store's rounds for a rebuild that stops in the middle: a read from the start waits after its
/// first round until <see cref="Open"/>, so a test can look at the engines while one rebuilds.
/// </summary>
sealed class HeldRebuild(Func<long, IAsyncEnumerable<RoundFinished>> rounds)
{
    readonly TaskCompletionSource gate = new(), reading = new();
    int readsFromTheStart;

    /// <summary>Completes once a read from the start has given its first round and waits.</summary>
    public Task Reading => reading.Task;
    public int ReadsFromTheStart => readsFromTheStart;
    public void Open() => gate.TrySetResult();

    public async IAsyncEnumerable<RoundFinished> RoundsAfter(long after)
    {
        if (after == 0) Interlocked.Increment(ref readsFromTheStart);
        await foreach (var r in rounds(after))
        {
            yield return r;
            if (after == 0) { reading.TrySetResult(); await gate.Task; }
        }
    }
}
