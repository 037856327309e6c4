using System.Collections.Concurrent;
using System.Diagnostics;
using StackExchange.Redis;

namespace Quiz.Ranking;

/// <summary>
/// The scale-out engine: boards in Redis sorted sets shared by every node (keys in
/// <see cref="RedisKeys"/>, scripts in <see cref="RedisScripts"/>). A finish is one EVALSHA; unit
/// counters are summed in this node's memory and flushed in one pipelined batch at least every
/// 250 ms. When Redis is unreachable nothing throws: finishes answer Pending, the campaign is
/// marked for catch-up, and <see cref="RebuildAsync"/> replays it from the store once Redis is back.
/// Redis exceptions are caught here, at the seam, and nowhere else.
/// </summary>
public sealed class RedisRankingEngine : IRankingEngine
{
    readonly IConnectionMultiplexer redis;
    readonly bool ownsConnection;
    readonly IDatabase db;
    readonly RankingOptions options;
    readonly BoardCache cache;
    readonly ITimer flushTimer, refreshTimer;
    readonly ConcurrentDictionary<string, byte> needsCatchUp = new(StringComparer.Ordinal);
    /// <summary>Campaigns whose epoch key this process has made sure of.</summary>
    readonly ConcurrentDictionary<string, byte> knownCampaigns = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, byte> rebuilding = new(StringComparer.Ordinal);
    readonly SemaphoreSlim flushing = new(1, 1);

    /// <summary>Unit-counter deltas not yet flushed, per campaign, with the epoch they were counted in.</summary>
    readonly Dictionary<string, (long Epoch, UnitCounters Counters)> pending = new(StringComparer.Ordinal);

    public RedisRankingEngine(IConnectionMultiplexer redis, RankingOptions? options = null, TimeProvider? time = null)
        : this(redis, ownsConnection: false, options, time) { }

    RedisRankingEngine(IConnectionMultiplexer redis, bool ownsConnection, RankingOptions? options, TimeProvider? time)
    {
        this.redis = redis;
        this.ownsConnection = ownsConnection;
        this.options = options ?? new RankingOptions();
        time ??= TimeProvider.System;
        db = redis.GetDatabase();
        cache = new BoardCache(this.options, time);
        flushTimer = time.CreateTimer(_ => _ = FlushAsync(), null, this.options.FlushInterval, this.options.FlushInterval);
        refreshTimer = time.CreateTimer(_ => _ = RefreshAsync(), null, this.options.RefreshInterval, this.options.RefreshInterval);
    }

    /// <summary>
    /// Connects with the settings this engine relies on: never abort on a failed connect (the
    /// server starts while Redis is down) and fail fast while disconnected (a finish answers
    /// Pending at once rather than queueing).
    /// </summary>
    public static async Task<RedisRankingEngine> ConnectAsync(string configuration, RankingOptions? options = null, TimeProvider? time = null)
    {
        var config = ConfigurationOptions.Parse(configuration);
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy ??= new LinearRetry(500);
        var redis = await ConnectionMultiplexer.ConnectAsync(config);
        var engine = new RedisRankingEngine(redis, ownsConnection: true, options, time);
        try { await engine.LoadScriptsAsync(); }
        catch (RedisException) { } // loaded on first use once Redis is reachable
        return engine;
    }

    public event Action<string>? CatchUpNeeded;

    public bool NeedsCatchUp(string campaignId) => needsCatchUp.ContainsKey(campaignId);

    void MarkForCatchUp(string campaignId)
    {
        if (needsCatchUp.TryAdd(campaignId, 0)) CatchUpNeeded?.Invoke(campaignId);
    }

    public async Task<FinishRanks> RecordFinishAsync(RoundFinished round, CancellationToken cancellationToken = default)
    {
        var encoded = round.Validate();
        var campaign = round.CampaignId;
        // Until the catch-up, a live write could overtake a missed earlier round of the same person.
        if (needsCatchUp.ContainsKey(campaign) || rebuilding.ContainsKey(campaign)) return FinishRanks.PendingRanks;
        try
        {
            // The epoch key marks a campaign's keys as present: the finish script answers -2 when
            // it is gone (Redis restarted without its data), and the campaign is caught up.
            if (knownCampaigns.TryAdd(campaign, 0))
            {
                try { await db.StringSetAsync(RedisKeys.Epoch(campaign), 1, when: When.NotExists); }
                catch (RedisException) { knownCampaigns.TryRemove(campaign, out _); throw; }
            }
            var result = await Finish(round, encoded, replay: false);
            return Count(round, result, pending: null);
        }
        catch (RedisException)
        {
            MarkForCatchUp(campaign);
            return FinishRanks.PendingRanks;
        }
    }

    Task<RedisResult> Finish(RoundFinished r, long encoded, bool replay)
    {
        var c = r.CampaignId;
        var hasOrg = r.OrganisationId is not null;
        var national = RedisKeys.Board(c, r.StageId, BoardScope.National, null);
        RedisKey[] keys =
        [
            RedisKeys.Hold(c), RedisKeys.Epoch(c), RedisKeys.Last(c), RedisKeys.Seen(c), RedisKeys.Seen(c, r.Day),
            national, RedisKeys.Board(c, r.StageId, BoardScope.Unit, r.UnitCode),
            hasOrg ? RedisKeys.Board(c, r.StageId, BoardScope.Organisation, r.OrganisationId) : national,
            r.Rule == AggregationRule.BestOfDaySummed ? RedisKeys.DayBest(c, r.StageId, r.Day) : national,
        ];
        RedisValue[] args =
        [
            r.ParticipantId, r.RoundId,
            r.Rule switch { AggregationRule.BestOfAll => "b", AggregationRule.BestOfDaySummed => "d", _ => "s" },
            encoded, replay ? "1" : "0", hasOrg ? "1" : "0",
        ];
        return Evaluate(RedisScripts.Finish, keys, args);
    }

    /// <summary>Reads a finish script's reply; counts an applied round into <paramref name="pending"/> (a rebuild's) or this node's flush buffer.</summary>
    FinishRanks Count(RoundFinished round, RedisResult result, UnitCounters? pending)
    {
        var r = (long[])result!;
        if (r[0] == -2)
        {
            MarkForCatchUp(round.CampaignId);
            // Redis lost the campaign under a running rebuild: that rebuild must start over.
            if (pending is not null) throw new RankingUnavailableException($"Campaign {round.CampaignId}'s keys vanished during a rebuild.", null);
        }
        if (r[0] < 0) return FinishRanks.PendingRanks;
        if (r[0] == 1)
        {
            if (pending is not null) pending.Add(round, r[2] == 1, r[3] == 1);
            else lock (this.pending) Buffer(round.CampaignId, r[1]).Add(round, r[2] == 1, r[3] == 1);
        }
        if (r[4] < 0) return new FinishRanks(null, null, null, 0, false);
        return new FinishRanks(r[5], r[6], r[7] > 0 ? r[7] : null, r[4], false);
    }

    /// <summary>This node's unflushed counters of a campaign; the caller holds the lock on <see cref="pending"/>.</summary>
    UnitCounters Buffer(string campaignId, long epoch)
    {
        // Deltas of an older epoch would be refused by the flush script: drop them here.
        if (!pending.TryGetValue(campaignId, out var p) || p.Epoch < epoch) pending[campaignId] = p = (epoch, new UnitCounters());
        return p.Epoch == epoch ? p.Counters : new UnitCounters();
    }

    async Task<RedisResult> Evaluate(RedisScripts.Script script, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await db.ScriptEvaluateAsync(script.Hash, keys, args);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // Redis restarted since the scripts were loaded: load them again, then retry.
            await LoadScriptsAsync();
            return await db.ScriptEvaluateAsync(script.Hash, keys, args);
        }
    }

    async Task LoadScriptsAsync()
    {
        foreach (var endpoint in redis.GetEndPoints())
            foreach (var s in RedisScripts.All)
                await redis.GetServer(endpoint).ScriptLoadAsync(s.Text);
    }

    public async Task SetUnitBasesAsync(string campaignId, IEnumerable<UnitBase> bases, CancellationToken cancellationToken = default)
    {
        var entries = bases.Select(b => new HashEntry(b.Level + "|" + b.Code, b.ParentCode + "|" + b.Headcount)).ToArray();
        var key = RedisKeys.Bases(campaignId);
        var tx = db.CreateTransaction();
        _ = tx.KeyDeleteAsync(key);
        if (entries.Length > 0) _ = tx.HashSetAsync(key, entries);
        try
        {
            await tx.ExecuteAsync();
        }
        catch (RedisException e)
        {
            throw new RankingUnavailableException("Could not store the unit bases: Redis is unreachable.", e);
        }
    }

    public Task<IReadOnlyList<BoardEntry>> GetTopAsync(BoardKey board, int count, CancellationToken cancellationToken = default) =>
        Guard(() => cache.TopAsync(board, count, FetchTop), (IReadOnlyList<BoardEntry>)[]);

    async Task<IReadOnlyList<BoardEntry>> FetchTop(BoardKey board, int count)
    {
        if (count == 0) return [];
        var entries = await db.SortedSetRangeByRankWithScoresAsync(RedisKeys.Board(board), 0, count - 1, Order.Descending);
        return Ranked(entries.Select(e => (long.Parse(e.Element!), (long)e.Score)), 0, firstRank: 1);
    }

    static List<BoardEntry> Ranked(IEnumerable<(long Participant, long Value)> members, long firstPosition, long firstRank)
    {
        var list = new List<BoardEntry>();
        var position = firstPosition;
        foreach (var (p, v) in members)
        {
            var rank = list.Count == 0 ? firstRank : list[^1].Value == v ? list[^1].Rank : position + 1;
            list.Add(new BoardEntry(p, rank, v));
            position++;
        }
        return list;
    }

    public Task<BoardEntry?> GetMemberAsync(BoardKey board, long participantId, CancellationToken cancellationToken = default) =>
        Guard(async () =>
        {
            var r = (RedisResult[])(await Evaluate(RedisScripts.Member, [RedisKeys.Board(board)], [participantId]))!;
            return r.Length == 0 ? null : new BoardEntry(participantId, (long)r[0], long.Parse((string)r[1]!));
        }, (BoardEntry?)null);

    public Task<IReadOnlyList<BoardEntry>> GetAroundAsync(BoardKey board, long participantId, int k, CancellationToken cancellationToken = default) =>
        Guard(async () =>
        {
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            var r = (RedisResult[])(await Evaluate(RedisScripts.Around, [RedisKeys.Board(board)], [participantId, k]))!;
            if (r.Length == 0) return (IReadOnlyList<BoardEntry>)[];
            var members = Enumerable.Range(0, (r.Length - 2) / 2).Select(i => (long.Parse((string)r[2 + 2 * i]!), (long)(double)r[3 + 2 * i]));
            return Ranked(members, firstPosition: (long)r[1], firstRank: (long)r[0]);
        }, (IReadOnlyList<BoardEntry>)[]);

    public Task<long> GetSizeAsync(BoardKey board, CancellationToken cancellationToken = default) =>
        Guard(() => db.SortedSetLengthAsync(RedisKeys.Board(board)), 0L);

    public Task<IReadOnlyList<UnitStanding>> GetUnitBoardAsync(UnitBoardKey board, int count, CancellationToken cancellationToken = default) =>
        Guard(async () => (await cache.UnitsAsync(board.CampaignId, board.Day, BuildUnits)).Board(board.Level, board.Metric, board.ParentCode, count), (IReadOnlyList<UnitStanding>)[]);

    public Task<UnitStanding?> GetUnitAsync(UnitBoardKey board, string unitCode, CancellationToken cancellationToken = default) =>
        Guard(async () => (await cache.UnitsAsync(board.CampaignId, board.Day, BuildUnits)).Find(board.Level, board.Metric, unitCode), (UnitStanding?)null);

    async Task<UnitBoards> BuildUnits(string campaignId, DateOnly? day)
    {
        var tallies = ReadTallies(campaignId, day);
        var bases = db.HashGetAllAsync(RedisKeys.Bases(campaignId));
        return new UnitBoards(await tallies, (await bases).Select(e =>
        {
            var (level, code) = Split(e.Name!);
            var (parent, headcount) = Split(e.Value!);
            return new UnitBase(Enum.Parse<UnitLevel>(level), code, parent.Length == 0 ? null : parent, long.Parse(headcount));
        }).ToList());
    }

    async Task<IReadOnlyDictionary<string, Tally>> ReadTallies(string campaignId, DateOnly? day)
    {
        var entries = await db.HashGetAllAsync(day is { } d ? RedisKeys.Units(campaignId, d) : RedisKeys.Units(campaignId));
        var tallies = new Dictionary<string, Tally>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var (leaf, field) = Split(e.Name!);
            var n = (long)e.Value;
            var t = tallies.GetValueOrDefault(leaf);
            tallies[leaf] = field switch { "p" => t with { Participants = n }, "r" => t with { Rounds = n }, _ => t with { Points = n } };
        }
        return tallies;
    }

    static (string, string) Split(string s)
    {
        var i = s.LastIndexOf('|');
        return (s[..i], s[(i + 1)..]);
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await flushing.WaitAsync(cancellationToken);
        try
        {
            List<(string Campaign, long Epoch, UnitCounters Counters)> batch;
            lock (pending)
            {
                batch = pending.Where(p => !p.Value.Counters.IsEmpty).Select(p => (p.Key, p.Value.Epoch, p.Value.Counters)).ToList();
                foreach (var (c, epoch, _) in batch) pending[c] = (epoch, new UnitCounters());
            }
            var failed = new List<(string, long, UnitCounters)>();
            await Task.WhenAll(batch.Select(async b =>
            {
                try { await WriteCountersAsync(b.Campaign, b.Epoch, b.Counters); }
                catch (RedisException)
                {
                    MarkForCatchUp(b.Campaign);
                    lock (failed) failed.Add(b);
                }
            }));
            lock (pending)
                foreach (var (c, epoch, counters) in failed)
                    if (pending.TryGetValue(c, out var p) && p.Epoch == epoch) p.Counters.MergeFrom(counters);
        }
        finally { flushing.Release(); }
    }

    /// <summary>
    /// Script calls of at most <see cref="FlushChunk"/> fields each, all pipelined: one call with
    /// every unit of a busy campaign (~20,000 HINCRBYs) would block Redis for ~10 ms and show in
    /// the finishes' p99.
    /// </summary>
    Task WriteCountersAsync(string campaignId, long epoch, UnitCounters counters)
    {
        var calls = new List<Task>();
        void Write(RedisKey hash, string day, IReadOnlyDictionary<string, Tally> tallies)
        {
            var args = new List<RedisValue>(2 + FlushChunk * 2) { epoch, day };
            void Send()
            {
                calls.Add(Evaluate(RedisScripts.AddCounters, [RedisKeys.Epoch(campaignId), hash, RedisKeys.Days(campaignId)], args.ToArray()));
                args.RemoveRange(2, args.Count - 2);
            }
            void Add(string field, long delta)
            {
                if (delta == 0) return;
                args.Add(field);
                args.Add(delta);
                if (args.Count >= 2 + FlushChunk * 2) Send();
            }
            foreach (var (leaf, t) in tallies)
            {
                Add(leaf + "|p", t.Participants);
                Add(leaf + "|r", t.Rounds);
                Add(leaf + "|s", t.Points);
            }
            if (args.Count > 2) Send();
        }
        Write(RedisKeys.Units(campaignId), "", counters.All);
        foreach (var (day, tallies) in counters.Days) Write(RedisKeys.Units(campaignId, day), RedisKeys.Day(day), tallies);
        return Task.WhenAll(calls);
    }

    const int FlushChunk = 128;

    public Task RefreshAsync(CancellationToken cancellationToken = default) =>
        Guard(async () => { await cache.RefreshAsync(FetchTop, BuildUnits); return 0; }, 0);

    public IAsyncEnumerable<RankingChange> WatchAsync(CancellationToken cancellationToken = default) => cache.WatchAsync(cancellationToken);

    public async Task<RebuildReport> RebuildAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default)
    {
        if (!rebuilding.TryAdd(campaignId, 0)) throw new InvalidOperationException($"Campaign {campaignId} is already being rebuilt.");
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Hold every node's live finishes (they answer Pending and are replayed below); the
            // expiry frees the campaign should this node die mid-rebuild.
            await HoldAsync(campaignId);
            // Loaded up front: a NOSCRIPT retry would resend replayed rounds out of order.
            await LoadScriptsAsync();
            var epoch = await db.StringIncrementAsync(RedisKeys.Epoch(campaignId));
            lock (pending) pending.Remove(campaignId);
            await DeleteCampaignKeysAsync(campaignId);

            var counters = new UnitCounters();
            long rounds = 0, last = 0;
            for (var pass = 0; pass < 5; pass++)
            {
                var (n, max) = await ReplayAsync(campaignId, roundsAfter(last), counters, cancellationToken);
                rounds += n;
                last = Math.Max(last, max);
                if (n < 100) break;
            }
            await WriteCountersAsync(campaignId, epoch, counters);
            var participants = await db.StringBitCountAsync(RedisKeys.Seen(campaignId));
            needsCatchUp.TryRemove(campaignId, out _);
            await db.KeyDeleteAsync(RedisKeys.Hold(campaignId));
            rebuilding.TryRemove(campaignId, out _);
            cache.Invalidate(campaignId);
            // Rounds whose finish raced the release: one last pass (duplicates are skipped by round id).
            var tail = new UnitCounters();
            var (t, _) = await ReplayAsync(campaignId, roundsAfter(last), tail, cancellationToken);
            if (t > 0) lock (pending) Buffer(campaignId, epoch).MergeFrom(tail);
            return new RebuildReport(campaignId, rounds + t, participants, Stopwatch.GetElapsedTime(started));
        }
        catch (RankingUnavailableException)
        {
            MarkForCatchUp(campaignId);
            throw;
        }
        catch (RedisException e)
        {
            MarkForCatchUp(campaignId);
            throw new RankingUnavailableException($"Rebuilding campaign {campaignId} failed: Redis is unreachable.", e);
        }
        finally
        {
            rebuilding.TryRemove(campaignId, out _);
        }
    }

    Task HoldAsync(string campaignId) => db.StringSetAsync(RedisKeys.Hold(campaignId), 1, TimeSpan.FromSeconds(60));

    async Task DeleteCampaignKeysAsync(string campaignId)
    {
        var keep = new HashSet<RedisKey> { RedisKeys.Hold(campaignId), RedisKeys.Epoch(campaignId), RedisKeys.Bases(campaignId) };
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica) continue;
            var batch = new List<RedisKey>(1000);
            await foreach (var key in server.KeysAsync(db.Database, RedisKeys.Pattern(campaignId), pageSize: 1000))
            {
                if (keep.Contains(key)) continue;
                batch.Add(key);
                if (batch.Count < 1000) continue;
                await db.KeyDeleteAsync(batch.ToArray());
                batch.Clear();
            }
            if (batch.Count > 0) await db.KeyDeleteAsync(batch.ToArray());
        }
    }

    /// <summary>
    /// Replays rounds through the finish script, up to <see cref="RankingOptions.RebuildWindow"/>
    /// in flight: one connection executes them in the order sent, so a person's rounds apply in
    /// order, and memory stays bounded whatever the number of rounds.
    /// </summary>
    async Task<(long Count, long MaxRoundId)> ReplayAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, UnitCounters counters, CancellationToken cancellationToken)
    {
        var window = new Queue<(RoundFinished Round, Task<RedisResult> Reply)>();
        long n = 0, max = 0;
        async Task Drain(int keep)
        {
            while (window.Count > keep)
            {
                var (round, reply) = window.Dequeue();
                Count(round, await reply, counters);
            }
        }
        await foreach (var round in rounds.WithCancellation(cancellationToken))
        {
            if (round.CampaignId != campaignId) throw new ArgumentException($"Round {round.RoundId} belongs to campaign {round.CampaignId}, not {campaignId}.");
            window.Enqueue((round, Finish(round, round.Validate(), replay: true)));
            n++;
            max = Math.Max(max, round.RoundId);
            if (window.Count >= options.RebuildWindow) await Drain(options.RebuildWindow / 2);
            if (n % 100_000 == 0) await HoldAsync(campaignId);
        }
        await Drain(0);
        return (n, max);
    }

    public async Task<ReconcileReport> ReconcileAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, CancellationToken cancellationToken = default)
    {
        var model = new CampaignBoards(campaignId);
        await InProcessRankingEngine.ReplayAsync(model, rounds, cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
            return await Reconciler.CompareAsync(model, new Reconciler.Live(
                key => db.SortedSetLengthAsync(RedisKeys.Board(key)),
                async (key, ids) =>
                {
                    var scores = await db.SortedSetScoresAsync(RedisKeys.Board(key), ids.Select(i => (RedisValue)i).ToArray());
                    return scores.Select(s => s is { } v ? (long?)(long)v : null).ToArray();
                },
                day => ReadTallies(campaignId, day),
                async () => (await db.SetMembersAsync(RedisKeys.Days(campaignId))).Select(d => RedisKeys.ParseDay(d!)).ToList()),
                cancellationToken);
        }
        catch (RedisException e)
        {
            throw new RankingUnavailableException($"Reconciling campaign {campaignId} failed: Redis is unreachable.", e);
        }
    }

    /// <summary>Reads answer "nothing" rather than fail while Redis is unreachable.</summary>
    static async Task<T> Guard<T>(Func<Task<T>> read, T unavailable)
    {
        try { return await read(); }
        catch (RedisException) { return unavailable; }
    }

    public async ValueTask DisposeAsync()
    {
        flushTimer.Dispose();
        refreshTimer.Dispose();
        try { await FlushAsync(); }
        catch (RedisException) { }
        if (ownsConnection) await redis.DisposeAsync();
    }
}

/// <summary>Thrown by rebuild, reconcile and unit-base updates when the ranking store cannot be reached.</summary>
public sealed class RankingUnavailableException(string message, Exception? inner) : Exception(message, inner);
