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
    /// shard follows from <see cref="ShardBy"/> and the count, so adding a shard means rebuilding every campaign.
    /// </summary>
    public string[] Shards { get; init; } = [];
    /// <summary>
    /// What decides a person's shard: "Participant" (the default; a hash of the participant id, so
    /// every board is spread evenly over every shard) or "Province" (the province of the person's
    /// region: a province's people and its counties' boards live on one shard,
    /// so a finish asks the other shards to count only on the national board and on its
    /// organisation's, where that spans provinces).
    /// </summary>
    public string ShardBy { get; init; } = "Participant";
    /// <summary>
    /// With <see cref="ShardBy"/> "Province": the shard (0-based, in <see cref="Shards"/>' order) of
    /// each province code, to balance the shards by expected participants. A province not listed
    /// goes to its code's number modulo the count (a hash of the code when it is not a number).
    /// </summary>
    public Dictionary<string, int> ProvinceShards { get; init; } = new(StringComparer.Ordinal);
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
        if (ShardBy is not ("Participant" or "Province")) throw new ArgumentException($"Ranking:ShardBy must be Participant or Province, not '{ShardBy}'.");
        if (Shards.Length > 0) CheckProvinceShards(Shards.Length);
        if (RefreshInterval <= TimeSpan.Zero) throw new ArgumentException("Ranking:RefreshInterval must be positive.");
        if (FinishTimeout <= TimeSpan.Zero || ReadTimeout <= TimeSpan.Zero) throw new ArgumentException("Ranking:FinishTimeout and ReadTimeout must be positive.");
        if (TopCacheDepth < 1 || RebuildWindow < 1 || WatchBuffer < 1) throw new ArgumentException("Ranking: depths and windows must be positive.");
    }

    /// <summary>Throws when <see cref="ProvinceShards"/> names a shard outside 0 .. <paramref name="shardCount"/> − 1.</summary>
    public void CheckProvinceShards(int shardCount)
    {
        if (ProvinceShards.FirstOrDefault(p => p.Value < 0 || p.Value >= shardCount) is { Key: not null } wrong)
            throw new ArgumentException($"Ranking:ProvinceShards:{wrong.Key} is {wrong.Value}: a shard is 0 to {shardCount - 1} ({shardCount} shards listed).");
    }
}
