using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Quiz.Ranking;

/// <summary>
/// The top-N lists and unit boards that dashboards read, refreshed about once a second instead
/// of per request (a ZREVRANGE of 100 costs ~20× a rank lookup), and the subscription that pushes
/// the unit boards that changed (the dashboards'; nobody is pushed a top list). A board joins the
/// refresh when first read and leaves it when nobody has read it for <see cref="RankingOptions.CacheIdleExpiry"/>.
/// </summary>
public sealed class BoardCache(RankingOptions options, TimeProvider time)
{
    sealed class Entry<T>(T value, long fingerprint, long touched)
    {
        public T Value = value;
        /// <summary>A unit board's, to push only what changed; a top list keeps none (nothing is pushed of it).</summary>
        public long Fingerprint = fingerprint;
        public long Touched = touched;
    }

    readonly ConcurrentDictionary<BoardKey, Entry<IReadOnlyList<BoardEntry>>> tops = new();
    readonly ConcurrentDictionary<(string Campaign, DateOnly? Day), Entry<UnitBoards>> units = new();
    readonly ConcurrentDictionary<Channel<RankingChange>, byte> subscribers = new();
    readonly SemaphoreSlim refreshing = new(1, 1);
    ITimer? timer;
    int ticking;

    public async Task<IReadOnlyList<BoardEntry>> TopAsync(BoardKey board, int count, Func<BoardKey, int, Task<IReadOnlyList<BoardEntry>>> fetch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > options.TopCacheDepth) return await fetch(board, count);
        if (!tops.TryGetValue(board, out var e))
        {
            var list = await fetch(board, options.TopCacheDepth);
            e = tops.GetOrAdd(board, new Entry<IReadOnlyList<BoardEntry>>(list, 0, Now));
            Wake();
        }
        e.Touched = Now;
        return count >= e.Value.Count ? e.Value : e.Value.Take(count).ToList();
    }

    public async Task<UnitBoards> UnitsAsync(string campaignId, DateOnly? day, Func<string, DateOnly?, Task<UnitBoards>> build)
    {
        if (!units.TryGetValue((campaignId, day), out var e))
        {
            var boards = await build(campaignId, day);
            e = units.GetOrAdd((campaignId, day), new Entry<UnitBoards>(boards, boards.Fingerprint, Now));
            Wake();
        }
        e.Touched = Now;
        return e.Value;
    }

    /// <summary>
    /// Starts the timer that refreshes the cached boards every <see cref="RankingOptions.RefreshInterval"/>.
    /// It ticks only while something is cached: a board read wakes it and the first tick with
    /// nothing cached stops it. Besides sparing an idle node a task a second, this keeps a test
    /// clock moved a month ahead from firing a one-second timer 2.7 million times (1.6 s of a test).
    /// </summary>
    public ITimer StartRefreshing(Func<Task> refresh)
    {
        timer = time.CreateTimer(_ => Tick(refresh), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (HasBoards) Wake();
        return timer;
    }

    bool HasBoards => !tops.IsEmpty || !units.IsEmpty;

    void Wake()
    {
        if (timer is not null && Interlocked.Exchange(ref ticking, 1) == 0) timer.Change(options.RefreshInterval, options.RefreshInterval);
    }

    void Tick(Func<Task> refresh)
    {
        if (HasBoards) { _ = refresh(); return; }
        // Stop first, then say so, then look again: a board cached in between (whose Wake saw the
        // timer still ticking) is seen here and wakes it again.
        timer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref ticking, 0);
        if (HasBoards) Wake();
    }

    /// <summary>Re-reads every cached board and publishes the unit boards that changed.</summary>
    /// <remarks>An engine caches top lists and no unit boards; the store's unit boards no top lists: each passes what it caches.</remarks>
    public async Task RefreshAsync(Func<BoardKey, int, Task<IReadOnlyList<BoardEntry>>>? fetchTop, Func<string, DateOnly?, Task<UnitBoards>>? buildUnits = null)
    {
        if (!await refreshing.WaitAsync(0)) return; // a slow refresh is not stacked on itself
        try
        {
            var idleBefore = Now - (long)options.CacheIdleExpiry.TotalMilliseconds;
            if (fetchTop is not null)
                foreach (var (key, e) in tops)
                {
                    if (e.Touched < idleBefore) { tops.TryRemove(key, out _); continue; }
                    e.Value = await fetchTop(key, options.TopCacheDepth);
                }
            if (buildUnits is not null)
                foreach (var (key, e) in units)
                {
                    if (e.Touched < idleBefore) { units.TryRemove(key, out _); continue; }
                    var boards = await buildUnits(key.Campaign, key.Day);
                    if (boards.Fingerprint == e.Fingerprint) { e.Value = boards; continue; }
                    (e.Value, e.Fingerprint) = (boards, boards.Fingerprint);
                    Publish(new RankingChange(key.Campaign, key.Day));
                }
        }
        finally { refreshing.Release(); }
    }

    /// <summary>Forgets a campaign's cached boards (after a rebuild), so the next read fetches afresh.</summary>
    public void Invalidate(string campaignId)
    {
        foreach (var key in tops.Keys.Where(k => k.CampaignId == campaignId)) tops.TryRemove(key, out _);
        foreach (var key in units.Keys.Where(k => k.Campaign == campaignId)) units.TryRemove(key, out _);
    }

    public async IAsyncEnumerable<RankingChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<RankingChange>(new BoundedChannelOptions(options.WatchBuffer)
        { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        subscribers[channel] = 0;
        try
        {
            await foreach (var change in channel.Reader.ReadAllAsync(cancellationToken)) yield return change;
        }
        finally { subscribers.TryRemove(channel, out _); }
    }

    void Publish(RankingChange change)
    {
        foreach (var channel in subscribers.Keys) channel.Writer.TryWrite(change);
    }

    long Now => time.GetTimestamp() * 1000 / time.TimestampFrequency;
}
