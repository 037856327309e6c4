using System.Diagnostics;
using Quiz.Ranking;
using Quiz.RankingBench;
using StackExchange.Redis;

// Usage: Quiz.RankingBench <participants> <redis host:port> <redis-benchmark ZADD per s>
// Fills one campaign per engine with a first round for every participant (the finish rate, rank
// returned), plays a second round for a fifth of them on the full boards, measures finish latency
// at half the saturated rate, rank queries, Redis memory a member, and a rebuild from the "store".
var participants = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var redisAddress = args.Length > 1 ? args[1] : "127.0.0.1:6379";
var zaddPerSecond = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
var updates = participants / 5;
var queries = Math.Min(500_000, participants);
var workers = int.TryParse(Environment.GetEnvironmentVariable("BENCH_WORKERS"), out var w) ? w : 64;

Console.WriteLine($"participants={participants:N0} second rounds={updates:N0} queries={queries:N0} cores={Environment.ProcessorCount}");

// --- Redis engine -------------------------------------------------------------------------
var options = new RankingOptions { Engine = "Redis" };
var redisCampaign = new Campaign("bench-redis", participants);
Figures redisFill, redisUpdate, redisPaced, redisQueries;
double bytesPerMember;
TimeSpan redisRebuild;
await using (var engine = await RedisRankingEngine.ConnectAsync(redisAddress + ",syncTimeout=20000,asyncTimeout=20000", options))
{
    var mux = await ConnectionMultiplexer.ConnectAsync(redisAddress + ",allowAdmin=true");
    await mux.GetDatabase().KeyDeleteAsync(await mux.GetServer(mux.GetEndPoints()[0]).KeysAsync(pattern: "{c:bench-redis}:*").ToArrayAsync());
    var total = (long)participants + updates;
    await engine.SetUnitBasesAsync(redisCampaign.Id, Bases(redisCampaign));
    var pendingSeen = 0L;
    async Task Finish(long id)
    {
        var r = await engine.RecordFinishAsync(redisCampaign.Round(id, total));
        if (r.Pending) Interlocked.Increment(ref pendingSeen);
    }
    var admin = mux.GetServer(mux.GetEndPoints()[0]);
    await admin.ExecuteAsync("CONFIG", "RESETSTAT");
    redisFill = await Measure.SaturatedAsync("redis finish (fill, rank returned)", participants, workers, Finish);
    var evalsha = (await admin.InfoAsync("commandstats")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "cmdstat_evalsha").Value;
    Console.WriteLine($"redis server time a finish script (fill): {evalsha}");
    redisUpdate = await Measure.SaturatedAsync("redis finish (full board)", updates / 2, workers, i => Finish(participants + i));
    redisPaced = await Measure.PacedAsync($"redis finish at {redisFill.PerSecond / 2:N0}/s", redisFill.PerSecond / 2, TimeSpan.FromSeconds(5),
        i => Finish(participants + updates / 2 + Math.Min(i, updates - updates / 2)));
    await engine.FlushAsync();
    var national = BoardKey.National(redisCampaign.Id, "main");
    redisQueries = await Measure.SaturatedAsync("redis rank query", queries, workers,
        i => engine.GetMemberAsync(national, (i * 7919) % participants + 1));
    var usage = (long)await mux.GetDatabase().ExecuteAsync("MEMORY", "USAGE", "{c:bench-redis}:b:main:n", "SAMPLES", "0");
    bytesPerMember = (double)usage / await engine.GetSizeAsync(national);
    Console.WriteLine($"redis national board: {await engine.GetSizeAsync(national):N0} members, {usage:N0} bytes, {bytesPerMember:F1} bytes a member; pending replies: {pendingSeen}");
    var info = await admin.InfoAsync("memory");
    Console.WriteLine("redis " + string.Join(' ', info.SelectMany(g => g).Where(kv => kv.Key is "used_memory_human" or "used_memory_dataset")));

    var sw = Stopwatch.StartNew();
    var report = await engine.RebuildAsync(redisCampaign.Id, after => redisCampaign.RoundsAfter(after, total));
    redisRebuild = sw.Elapsed;
    Console.WriteLine($"redis rebuild: {report.Rounds:N0} rounds, {report.Participants:N0} participants in {redisRebuild.TotalSeconds:F1} s ({report.Rounds / redisRebuild.TotalSeconds:N0} rounds/s)");
    var top = await engine.GetTopAsync(national, 3);
    Console.WriteLine("redis top 3 after rebuild: " + string.Join(", ", top.Select(e => $"#{e.Rank} {e.ParticipantId} {e.Parts}")));
    var province = await engine.GetUnitBoardAsync(new UnitBoardKey(redisCampaign.Id, UnitLevel.Province, UnitMetric.ParticipationRate), 1);
    Console.WriteLine($"redis top province by rate: {province.FirstOrDefault()}");
    await mux.GetDatabase().KeyDeleteAsync(await mux.GetServer(mux.GetEndPoints()[0]).KeysAsync(pattern: "{c:bench-redis}:*").ToArrayAsync());
    await mux.DisposeAsync();
}

// --- In-process engine -----------------------------------------------------------------------
var inprocCampaign = new Campaign("bench-inproc", participants);
Figures inprocFill, inprocUpdate, inprocQueries;
TimeSpan inprocRebuild;
await using (var engine = new InProcessRankingEngine(options))
{
    var total = (long)participants + updates;
    Task Finish(long id) => engine.RecordFinishAsync(inprocCampaign.Round(id, total));
    inprocFill = await Measure.SaturatedAsync("in-process finish (fill)", participants, Environment.ProcessorCount, Finish);
    inprocUpdate = await Measure.SaturatedAsync("in-process finish (full board)", updates, Environment.ProcessorCount, i => Finish(participants + i));
    var national = BoardKey.National(inprocCampaign.Id, "main");
    inprocQueries = await Measure.SaturatedAsync("in-process rank query", queries, Environment.ProcessorCount,
        i => engine.GetMemberAsync(national, (i * 7919) % participants + 1));
    var sw = Stopwatch.StartNew();
    var report = await engine.RebuildAsync(inprocCampaign.Id, after => inprocCampaign.RoundsAfter(after, total));
    inprocRebuild = sw.Elapsed;
    Console.WriteLine($"in-process rebuild: {report.Rounds:N0} rounds in {inprocRebuild.TotalSeconds:F1} s; managed heap {GC.GetTotalMemory(true) / 1024 / 1024:N0} MiB");
}

Console.WriteLine($"zadd/s (redis-benchmark -P 16) = {zaddPerSecond:F0}");
Console.WriteLine(FormattableString.Invariant(
    $"ratio={redisFill.PerSecond / zaddPerSecond:F3} finishes/s={redisFill.PerSecond:F0} zadd/s={zaddPerSecond:F0} inproc_finishes/s={inprocFill.PerSecond:F0} bytes_per_member={bytesPerMember:F1}"));

static IEnumerable<UnitBase> Bases(Campaign c) =>
    c.Counties.Select(k => new UnitBase(UnitLevel.County, k[2], k[1], 3_000 + int.Parse(k[2]) % 4_000))
        .Concat(c.Counties.Select(k => k[1]).Distinct().Select(city => new UnitBase(UnitLevel.City, city, city[..2], 0)))
        .Concat(c.Counties.Select(k => k[0]).Distinct().Select(p => new UnitBase(UnitLevel.Province, p, null, 0)));
