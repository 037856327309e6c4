using System.Diagnostics;
using Quiz.Ranking;
using Quiz.RankingBench;
using StackExchange.Redis;

// Usage: Quiz.RankingBench <participants> <redis host:port[;host:port...]> <redis-benchmark ZADD per s>
// Several Redis addresses (bench-ranking.sh --shards K) spread the campaign over them (ShardedRankingEngine).
// The admin connections wait up to 2 minutes: MEMORY USAGE of a 20 M-member board (SAMPLES 0 walks it all) takes over 5 s.
// Fills one campaign per engine with a first round for every participant (the finish rate, rank
// returned), plays a second round for a fifth of them on the full boards, measures finish latency
// at half the saturated rate, rank queries, Redis memory a member, and a rebuild from the "store".
// BENCH_PARTS (to iterate on one engine): any of redis, inproc, rebuild; default all.
// BENCH_WORKERS: concurrent callers of the Redis finishes (default 64).
// BENCH_QUERY_WORKERS: concurrent callers of the Redis rank queries (default
//   256: the engine keeps two batches of 128 lookups in flight to each Redis, and 256 callers fill
//   that window; BENCHMARKS.md, "Rank queries at the engine's own window"). The rank queries are
//   also measured at BENCH_WORKERS callers, printed for comparison.
// BENCH_INPROC_WORKERS: threads finishing on the in-process engine's fill (default: one a core).
// BENCH_SHARD_BY: with several Redis addresses, Participant (default) or Province (Ranking:ShardBy).
var participants = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var redisAddresses = (args.Length > 1 ? args[1] : "127.0.0.1:6379").Split(';', StringSplitOptions.RemoveEmptyEntries);
var zaddPerSecond = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
var updates = participants / 5;
var queries = Math.Min(500_000, participants);
var workers = int.TryParse(Environment.GetEnvironmentVariable("BENCH_WORKERS"), out var w) ? w : 64;
var queryWorkers = int.TryParse(Environment.GetEnvironmentVariable("BENCH_QUERY_WORKERS"), out var qw) ? qw : 256;
var inprocWorkers = int.TryParse(Environment.GetEnvironmentVariable("BENCH_INPROC_WORKERS"), out var iw) ? iw : Environment.ProcessorCount;
var parts = (Environment.GetEnvironmentVariable("BENCH_PARTS") ?? "redis,inproc,rebuild").Split(',');
bool Runs(string part) => parts.Contains(part);

// The engine's own bound on a finish's wait (200 ms, then "pending") is for players; the bench
// measures the engine at saturation, where queues run long, so it waits for every reply.
var options = new RankingOptions
{
    Engine = "Redis", FinishTimeout = TimeSpan.FromMinutes(5), ReadTimeout = TimeSpan.FromMinutes(5),
    ShardBy = Environment.GetEnvironmentVariable("BENCH_SHARD_BY") is { Length: > 0 } by ? by : "Participant",
};
options.Validate();
Console.WriteLine($"participants={participants:N0} second rounds={updates:N0} queries={queries:N0} callers={workers} (finishes, standings), {queryWorkers} (rank queries) shards={redisAddresses.Length} shard_by={options.ShardBy} cores={Environment.ProcessorCount} load average: {LoadAverage()}");
Figures redisFill = Figures.None, redisPaced = Figures.None, redisQueries = Figures.None, inprocFill = Figures.None;
double bytesPerMember = double.NaN;
TimeSpan redisRebuild = TimeSpan.Zero;

// --- Redis engine -------------------------------------------------------------------------
if (Runs("redis"))
{
    var campaign = new Campaign("bench-redis", participants);
    await using var engine = await ConnectEngineAsync();
    var muxes = await Task.WhenAll(redisAddresses.Select(a => ConnectionMultiplexer.ConnectAsync(a + ",allowAdmin=true,syncTimeout=120000,asyncTimeout=120000")));
    var admins = muxes.Select(m => m.GetServer(m.GetEndPoints()[0])).ToArray();
    async Task DeleteKeys()
    {
        for (var i = 0; i < muxes.Length; i++)
            await foreach (var chunk in admins[i].KeysAsync(pattern: "{c:bench-redis}:*", pageSize: 1000).Chunk(1000))
                await muxes[i].GetDatabase().KeyDeleteAsync(chunk);
    }
    await DeleteKeys();
    var total = (long)participants + updates;
    var pendingSeen = 0L;
    async Task Finish(long id)
    {
        var r = await engine.RecordFinishAsync(campaign.Round(id, total));
        if (r.Pending) Interlocked.Increment(ref pendingSeen);
    }
    // CPU an operation of the Redis server and of this process (client and engine): which side limits.
    async Task<Figures> WithCpu(Task<Figures> run)
    {
        var (redis0, client0) = (await Task.WhenAll(admins.Select(RedisCpuSeconds)), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
        var f = await run;
        var (redis1, client1) = (await Task.WhenAll(admins.Select(RedisCpuSeconds)), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
        var each = redis0.Zip(redis1, (a, b) => (b - a) / f.Operations * 1e6).ToArray();
        Console.WriteLine(FormattableString.Invariant($"  cpu an operation: redis-server {each.Sum():F1} µs, bench process {(client1 - client0) / f.Operations * 1e6:F1} µs"));
        // With a core per shard, the rate is bounded by the busiest shard's CPU an operation (of all operations, not of its own).
        if (each.Length > 1) Console.WriteLine(FormattableString.Invariant($"  cpu an operation by shard: {string.Join(", ", each.Select(e => e.ToString("F1")))} µs (busiest {each.Max():F1} µs)"));
        return f;
    }

    foreach (var admin in admins) await admin.ExecuteAsync("CONFIG", "RESETSTAT");
    redisFill = await WithCpu(Measure.SaturatedAsync("redis finish (fill, rank returned)", participants, workers, Finish));
    // Server time per command; evalsha is a script call, which applies a batch of finishes.
    await PrintCommandStats();
    async Task PrintCommandStats()
    {
        for (var i = 0; i < admins.Length; i++)
            foreach (var (command, stats) in (await admins[i].InfoAsync("commandstats")).SelectMany(g => g).Select(kv => (kv.Key, kv.Value)))
                if (command is "cmdstat_evalsha" or "cmdstat_zadd" or "cmdstat_zcount" or "cmdstat_zscore" or "cmdstat_zcard" or "cmdstat_hget" or "cmdstat_hset" or "cmdstat_setbit" or "cmdstat_hincrby"
                    or "cmdstat_zrevrank" or "cmdstat_zrevrange" or "cmdstat_zrangebyscore" or "cmdstat_zrevrangebyscore")
                    Console.WriteLine($"  redis{(admins.Length > 1 ? $" shard {i}" : "")} {command}: {stats[..stats.IndexOf(",rejected", StringComparison.Ordinal)]}");
    }
    await WithCpu(Measure.SaturatedAsync("redis finish (full board)", updates / 2, workers, i => Finish(participants + i)));
    var (pause0, gcs0) = (GC.GetTotalPauseDuration(), GC.CollectionCount(0));
    redisPaced = await Measure.PacedAsync($"redis finish at {redisFill.PerSecond / 2:N0}/s", redisFill.PerSecond / 2, TimeSpan.FromSeconds(5),
        i => Finish(participants + updates / 2 + Math.Min(i, updates - updates / 2)));
    // Causes of the tail: this process's GC pauses, and other work on the machine (load average).
    Console.WriteLine($"  during it: {GC.CollectionCount(0) - gcs0} GCs pausing {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds:F0} ms in all; load average {LoadAverage()}");
    var national = BoardKey.National(campaign.Id, "main");
    // Rank lookups of spread-out people (shift: another set of them for a second measure).
    async Task<Figures> RankQueriesAsync(int callers, int shift)
    {
        foreach (var admin in admins) await admin.ExecuteAsync("CONFIG", "RESETSTAT");
        var figures = await WithCpu(Measure.SaturatedAsync($"redis rank query ({callers} callers)", queries, callers,
            i => engine.GetMemberAsync(national, (i * 7919 + shift) % participants + 1)));
        await PrintCommandStats();
        return figures;
    }
    redisQueries = await RankQueriesAsync(queryWorkers, 0);
    // The same at the finishes' callers, as every run before 2026-12-07 measured it: with fewer
    // lookups waiting, a script call carries fewer of them, and its own cost and the reply's
    // wake-up are shared by fewer.
    if (workers != queryWorkers) await RankQueriesAsync(workers, 1);

    // The standing the leaderboard page reads (GET /api/rankings/{campaign}/{stage}/me, and until
    // 2026-12-06 the result page after every round: the national, county and organisation places
    // with each board's size; a round's reply carries them since): as the endpoint read
    // it until 2026-12-06 (the list around the person, then a lookup and a size a board, one after
    // the other: seven engine calls) and as it reads it now (GetStandingsAsync: one).
    var standingReads = Math.Min(200_000, participants);
    List<BoardKey> BoardsOf(long person)
    {
        var first = campaign.Round(person, total);
        return BoardKey.OfPerson(campaign.Id, "main", first.RegionPath[^1], first.OrganisationId);
    }
    long Person(long i) => (i * 7919 + 13) % participants + 1;
    foreach (var admin in admins) await admin.ExecuteAsync("CONFIG", "RESETSTAT");
    var standingBefore = await WithCpu(Measure.SaturatedAsync("redis standing, seven calls (the read until 2026-12-06)", standingReads, workers, async i =>
    {
        var person = Person(i);
        await engine.GetAroundAsync(national, person, 0);
        foreach (var board in BoardsOf(person))
            if (await engine.GetMemberAsync(board, person) is not null) await engine.GetSizeAsync(board);
    }));
    await PrintCommandStats();
    foreach (var admin in admins) await admin.ExecuteAsync("CONFIG", "RESETSTAT");
    var standingNow = await WithCpu(Measure.SaturatedAsync("redis standing, one call (GetStandingsAsync)", standingReads, workers, async i =>
    {
        var person = Person(i);
        if ((await engine.GetStandingsAsync(BoardsOf(person), person))[0] is null) throw new InvalidOperationException($"{person} has no national standing");
    }));
    await PrintCommandStats();
    Console.WriteLine(FormattableString.Invariant($"standing after a round: one call {standingNow.PerSecond:F0}/s, seven calls {standingBefore.PerSecond:F0}/s ({standingNow.PerSecond / standingBefore.PerSecond:F2} ×)"));
    long usage = 0;
    foreach (var mux in muxes) usage += (long)await mux.GetDatabase().ExecuteAsync("MEMORY", "USAGE", "{c:bench-redis}:b:main:n", "SAMPLES", "0");
    bytesPerMember = (double)usage / await engine.GetSizeAsync(national);
    Console.WriteLine($"redis national board: {await engine.GetSizeAsync(national):N0} members, {usage:N0} bytes, {bytesPerMember:F1} bytes a member; pending replies: {pendingSeen}");
    foreach (var admin in admins)
        Console.WriteLine("redis " + string.Join(' ', (await admin.InfoAsync("memory")).SelectMany(g => g).Where(kv => kv.Key is "used_memory_human" or "used_memory_dataset")));

    if (Runs("rebuild"))
    {
        var sw = Stopwatch.StartNew();
        var report = await engine.RebuildAsync(campaign.Id, after => campaign.RoundsAfter(after, total));
        redisRebuild = sw.Elapsed;
        Console.WriteLine($"redis rebuild: {report.Rounds:N0} rounds, {report.Participants:N0} participants in {redisRebuild.TotalSeconds:F1} s ({report.Rounds / redisRebuild.TotalSeconds:N0} rounds/s)");
        var top = await engine.GetTopAsync(national, 3);
        Console.WriteLine("redis top 3 after rebuild: " + string.Join(", ", top.Select(e => $"#{e.Rank} {e.ParticipantId} {e.Parts}")));
    }
    await DeleteKeys();
    foreach (var mux in muxes) await mux.DisposeAsync();
}

// The Redis rebuild alone (BENCH_PARTS=rebuild, without redis): from the "store" into an empty
// Redis, as after a loss of Redis's data; compares rebuild builds without the fill before it.
if (Runs("rebuild") && !Runs("redis"))
{
    var campaign = new Campaign("bench-redis", participants);
    await using var engine = await ConnectEngineAsync();
    await using var mux = await ConnectionMultiplexer.ConnectAsync(redisAddresses[0] + ",allowAdmin=true");
    var admin = mux.GetServer(mux.GetEndPoints()[0]);
    var total = (long)participants + updates;
    var redis0 = await RedisCpuSeconds(admin);
    var sw = Stopwatch.StartNew();
    var report = await engine.RebuildAsync(campaign.Id, after => campaign.RoundsAfter(after, total));
    redisRebuild = sw.Elapsed;
    Console.WriteLine($"redis rebuild: {report.Rounds:N0} rounds, {report.Participants:N0} participants in {redisRebuild.TotalSeconds:F1} s ({report.Rounds / redisRebuild.TotalSeconds:N0} rounds/s); redis-server CPU {await RedisCpuSeconds(admin) - redis0:F1} s; managed heap of this process at its last GC {GC.GetGCMemoryInfo().HeapSizeBytes / 1024 / 1024:N0} MiB");
    var top = await engine.GetTopAsync(BoardKey.National(campaign.Id, "main"), 3);
    Console.WriteLine("redis top 3 after rebuild: " + string.Join(", ", top.Select(e => $"#{e.Rank} {e.ParticipantId} {e.Parts}")));
    var reconcile = await engine.ReconcileAsync(campaign.Id, campaign.RoundsAfter(0, total));
    Console.WriteLine($"reconcile after rebuild: matches={reconcile.Matches} members checked={reconcile.MembersChecked:N0} {string.Join("; ", reconcile.Differences.Take(3))}");
    await mux.GetDatabase().KeyDeleteAsync(await admin.KeysAsync(pattern: "{c:bench-redis}:*").ToArrayAsync());
}

// --- In-process engine -----------------------------------------------------------------------
if (Runs("inproc"))
{
    var campaign = new Campaign("bench-inproc", participants);
    await using var engine = new InProcessRankingEngine(options);
    var total = (long)participants + updates;
    Task Finish(long id) => engine.RecordFinishAsync(campaign.Round(id, total));
    async Task<Figures> WithCpu(Task<Figures> run)
    {
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var f = await run;
        Console.WriteLine(FormattableString.Invariant($"  cpu an operation: {(Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpu0) / f.Operations * 1e6:F1} µs"));
        return f;
    }
    inprocFill = await WithCpu(Measure.SaturatedAsync("in-process finish (fill)", participants, inprocWorkers, Finish));
    await WithCpu(Measure.SaturatedAsync("in-process finish (full board)", updates, Environment.ProcessorCount, i => Finish(participants + i)));
    var national = BoardKey.National(campaign.Id, "main");
    await Measure.SaturatedAsync("in-process rank query", queries, Environment.ProcessorCount,
        i => engine.GetMemberAsync(national, (i * 7919) % participants + 1));
    if (Runs("rebuild"))
    {
        var sw = Stopwatch.StartNew();
        var report = await engine.RebuildAsync(campaign.Id, after => campaign.RoundsAfter(after, total));
        Console.WriteLine($"in-process rebuild: {report.Rounds:N0} rounds in {sw.Elapsed.TotalSeconds:F1} s; managed heap {GC.GetTotalMemory(true) / 1024 / 1024:N0} MiB");
    }
}

Console.WriteLine($"zadd/s (redis-benchmark -P 16) = {zaddPerSecond:F0}; load average: {LoadAverage()}");
Console.WriteLine(FormattableString.Invariant(
    $"ratio={redisFill.PerSecond / zaddPerSecond:F3} finishes/s={redisFill.PerSecond:F0} zadd/s={zaddPerSecond:F0} paced_p99_ms={redisPaced.P99Ms:F1} redis_queries/s={redisQueries.PerSecond:F0} inproc_finishes/s={inprocFill.PerSecond:F0} bytes_per_member={bytesPerMember:F1} redis_rebuild_s={redisRebuild.TotalSeconds:F1}"));

async Task<IRankingEngine> ConnectEngineAsync()
{
    var configurations = redisAddresses.Select(a => a + ",syncTimeout=20000,asyncTimeout=20000").ToList();
    return configurations.Count == 1
        ? await RedisRankingEngine.ConnectAsync(configurations[0], options)
        : await ShardedRankingEngine.ConnectAsync(configurations, options);
}

static async Task<double> RedisCpuSeconds(IServer server)
{
    var cpu = (await server.InfoAsync("cpu")).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
    return double.Parse(cpu["used_cpu_user"], System.Globalization.CultureInfo.InvariantCulture)
        + double.Parse(cpu["used_cpu_sys"], System.Globalization.CultureInfo.InvariantCulture);
}

// Other work on the machine (the bench shares it) shows here; the figures are only comparable at a low load.
static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

