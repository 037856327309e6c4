namespace Quiz.Ranking;

/// <summary>Settings of the "Ranking" section. Defaults are the design's: top lists refreshed about once a second, a finish's wait bounded at 200 ms.</summary>
public sealed record RankingOptions
{
    /// <summary>"InProcess" (embedded default) or "Redis".</summary>
    public string Engine { get; init; } = "InProcess";
    /// <summary>A StackExchange.Redis configuration string, for the Redis engine.</summary>
    public string Redis { get; init; } = "localhost:6379";
    /// <summary>
    /// Redis primaries to spread each campaign's boards over (issue 18), one configuration string
    /// each; two or more make a <see cref="ShardedRankingEngine"/>, and then <see cref="Redis"/> is
    /// not used. Empty (the default): one Redis, <see cref="Redis"/>. The order matters: a person's
    /// shard is a hash of their id modulo the count, so adding a shard means rebuilding every campaign.
    /// </summary>
    public string[] Shards { get; init; } = [];
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How many of a board's best are cached; a longer top list is read live.</summary>
    public int TopCacheDepth { get; init; } = 100;
    public TimeSpan CacheIdleExpiry { get; init; } = TimeSpan.FromMinutes(5);
    public int WatchBuffer { get; init; } = 1024;
    /// <summary>Rebuild: how many replayed rounds may be in flight to Redis at once (bounds memory).</summary>
    public int RebuildWindow { get; init; } = 4096;
    /// <summary>Longest a finish waits for the ranking before it answers Pending (the round is already durable).</summary>
    public TimeSpan FinishTimeout { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Longest a read waits before it answers from the cache, or nothing.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    public void Validate()
    {
        if (Engine is not ("InProcess" or "Redis")) throw new ArgumentException($"Ranking:Engine must be InProcess or Redis, not '{Engine}'.");
        if (Shards.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Ranking:Shards must not hold an empty entry.");
        if (RefreshInterval <= TimeSpan.Zero) throw new ArgumentException("Ranking:RefreshInterval must be positive.");
        if (FinishTimeout <= TimeSpan.Zero || ReadTimeout <= TimeSpan.Zero) throw new ArgumentException("Ranking:FinishTimeout and ReadTimeout must be positive.");
        if (TopCacheDepth < 1 || RebuildWindow < 1 || WatchBuffer < 1) throw new ArgumentException("Ranking: depths and windows must be positive.");
    }
}
