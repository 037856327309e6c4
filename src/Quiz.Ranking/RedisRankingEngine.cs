using System.Collections.Concurrent;
using System.Diagnostics;
using StackExchange.Redis;

namespace Quiz.Ranking;

/// <summary>
/// The scale-out engine: boards in Redis sorted sets shared by every node (keys in
/// <see cref="RedisKeys"/>, scripts in <see cref="RedisScripts"/>). A finish is one round trip:
/// concurrent finishes of a campaign are coalesced into one EVALSHA (see <see cref="Coalescer{T}"/>),
/// and so are concurrent rank lookups. When Redis is unreachable or slow nothing throws and
/// nothing waits long: a finish waits at most <see cref="RankingOptions.FinishTimeout"/> and then
/// answers Pending, the campaign is marked for catch-up, and <see cref="RebuildAsync"/> replays it
/// from the store once Redis answers again; reads wait at most <see cref="RankingOptions.ReadTimeout"/>
/// and answer from the cache (or nothing). Redis exceptions are caught here, at the seam, and nowhere else.
/// </summary>
public sealed class RedisRankingEngine : IRankingEngine
{
    readonly IConnectionMultiplexer redis;
    readonly bool ownsConnection;
    readonly IDatabase db;
    readonly RankingOptions options;
    readonly BoardCache cache;
    readonly ITimer? refreshTimer;
    readonly ConcurrentDictionary<string, byte> needsCatchUp = new(StringComparer.Ordinal);
    /// <summary>This node's catch-up ticket per campaign it missed rounds of (<see cref="RebuildAsync"/>), until it has caught up.</summary>
    readonly ConcurrentDictionary<string, long> tickets = new(StringComparer.Ordinal);
    /// <summary>
    /// Per campaign this node missed rounds of: the highest id among them, or long.MaxValue when
    /// a failure named no rounds (<see cref="RebuildAsync"/>).
    /// </summary>
    readonly ConcurrentDictionary<string, long> missedThrough = new(StringComparer.Ordinal);
    /// <summary>Campaigns whose epoch key this process has made sure of.</summary>
    readonly ConcurrentDictionary<string, byte> knownCampaigns = new(StringComparer.Ordinal);
    /// <summary>The rebuild running on this node per campaign, which a second caller joins.</summary>
    readonly ConcurrentDictionary<string, Task<RebuildReport>> rebuilding = new(StringComparer.Ordinal);
    readonly RedisKeys.Cache keyCache = new();
    /// <summary>Live finishes per campaign, coalesced into batched script calls (one campaign's keys share a shard).</summary>
    readonly ConcurrentDictionary<string, Coalescer<PendingFinish>> finishQueues = new(StringComparer.Ordinal);
    /// <summary>Rank lookups of concurrent callers per campaign, coalesced the same way.</summary>
    readonly ConcurrentDictionary<string, Coalescer<PendingMember>> memberQueues = new(StringComparer.Ordinal);
    /// <summary>Counts of members ahead of a value asked by a sharded engine for the other shards' finishes and lookups.</summary>
    readonly ConcurrentDictionary<string, Coalescer<PendingCount>> countQueues = new(StringComparer.Ordinal);


    public RedisRankingEngine(IConnectionMultiplexer redis, RankingOptions? options = null, TimeProvider? time = null)
        : this(redis, ownsConnection: false, options, time) { }

    RedisRankingEngine(IConnectionMultiplexer redis, bool ownsConnection, RankingOptions? options, TimeProvider? time, bool refresh = true)
    {
        this.redis = redis;
        this.ownsConnection = ownsConnection;
        this.options = options ?? new RankingOptions();
        time ??= TimeProvider.System;
        db = redis.GetDatabase();
        cache = new BoardCache(this.options, time);
        // A shard of a ShardedRankingEngine refreshes nothing itself: the sharded engine caches the merged boards.
        refreshTimer = refresh ? cache.StartRefreshing(() => RefreshAsync()) : null;
    }

    /// <summary>
    /// Connects with the settings this engine relies on: never abort on a failed connect (the
    /// server starts while Redis is down) and fail fast while disconnected (a finish answers
    /// Pending at once rather than queueing).
    /// </summary>
    public static Task<RedisRankingEngine> ConnectAsync(string configuration, RankingOptions? options = null, TimeProvider? time = null) =>
        ConnectAsync(configuration, options, time, refresh: true, sockets: null);

    /// <param name="sockets">
    /// Who reads the replies: null for the client library's own threads (one engine), or the
    /// thread pool for the shards of a <see cref="ShardedRankingEngine"/>, where every finish and
    /// lookup waits on replies from several connections and the hand-off from the library's threads
    /// to the pool's, once a reply, cost the client twice the CPU of each shard (BENCHMARKS.md,
    /// "The shards' replies on the thread pool").
    /// </param>
    internal static async Task<RedisRankingEngine> ConnectAsync(string configuration, RankingOptions? options, TimeProvider? time, bool refresh, SocketManager? sockets)
    {
        var config = ConfigurationOptions.Parse(configuration);
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy ??= new LinearRetry(500);
        if (sockets is not null) config.SocketManager = sockets;
        var redis = await ConnectionMultiplexer.ConnectAsync(config);
        var engine = new RedisRankingEngine(redis, ownsConnection: true, options, time, refresh);
        redis.ConnectionRestored += (_, _) => engine.Reconnected?.Invoke();
        try { await engine.LoadScriptsAsync(); }
        catch (RedisException) { } // loaded on first use once Redis is reachable
        return engine;
    }

    public event Action<string>? CatchUpNeeded;

    /// <summary>Raised when the connection to Redis comes back, so every campaign is checked, not only the next one played.</summary>
    public event Action? Reconnected;

    /// <summary>Redis could not be reached or did not answer in time (RedisTimeoutException is a TimeoutException, not a RedisException).</summary>
    internal static bool Unreachable(Exception e) => e is RedisException or TimeoutException;

    /// <summary>Also while a rebuild runs, whoever started it: its boards are written as it goes.</summary>
    public bool NeedsCatchUp(string campaignId) => needsCatchUp.ContainsKey(campaignId) || rebuilding.ContainsKey(campaignId);

    /// <summary>Marked for a catch-up: a finish or a rebuild of this process missed rounds.</summary>
    internal bool MissedRounds(string campaignId) => needsCatchUp.ContainsKey(campaignId);

    /// <summary>
    /// A rebuild of this node's failed (Redis away, its hold lost): it reads every round from the
    /// store, so it missed none of its own, and the rounds still to catch up are those marked
    /// before. Keeping their ids lets a rebuild on another node cover this node.
    /// </summary>
    void MarkRebuildFailed(string campaignId) =>
        MarkForCatchUp(campaignId, missedThrough.TryGetValue(campaignId, out var missed) ? missed : long.MaxValue);

    /// <param name="missedRoundId">The highest id of the rounds missed; long.MaxValue when not known.</param>
    internal void MarkForCatchUp(string campaignId, long missedRoundId = long.MaxValue)
    {
        missedThrough.AddOrUpdate(campaignId, missedRoundId, (_, had) => Math.Max(had, missedRoundId));
        if (needsCatchUp.TryAdd(campaignId, 0)) CatchUpNeeded?.Invoke(campaignId);
    }

    public Task<FinishRanks> RecordFinishAsync(RoundFinished round, CancellationToken cancellationToken = default)
    {
        var encoded = round.Validate();
        var campaign = round.CampaignId;
        // Until the catch-up, a live write could overtake a missed earlier round of the same person.
        // (While this node rebuilds otherwise, its finishes go to Redis like any node's: the hold
        // turns them away and keeps their ids, which the rebuild applies as it releases.)
        if (needsCatchUp.ContainsKey(campaign)) return Task.FromResult(FinishRanks.PendingRanks);
        return Bounded(knownCampaigns.ContainsKey(campaign) ? Enqueue(round, encoded) : FirstFinishAsync(round, encoded));
    }

    /// <summary>
    /// A finish waits for Redis at most <see cref="RankingOptions.FinishTimeout"/>: past that it
    /// answers Pending (the round is already in the store). Its batch stays on its way and is
    /// applied when Redis answers; should the batch fail instead (Redis gone, or the client's own
    /// timeout), that marks the campaign for a catch-up from the store. A slow moment therefore
    /// costs pending ranks, never a rebuild: a saturated queue is not an outage.
    /// </summary>
    async Task<FinishRanks> Bounded(Task<FinishRanks> finish)
    {
        try
        {
            return await finish.WaitAsync(options.FinishTimeout);
        }
        catch (TimeoutException)
        {
            return FinishRanks.PendingRanks;
        }
    }

    /// <summary>
    /// The epoch key marks a campaign's keys as present: the finish script answers -2 when it is
    /// gone (Redis restarted without its data), and the campaign is caught up. Made sure of once.
    /// </summary>
    async Task<FinishRanks> FirstFinishAsync(RoundFinished round, long encoded) =>
        await EnsureCampaignAsync(round.CampaignId, round.RoundId) ? await Enqueue(round, encoded) : FinishRanks.PendingRanks;

    static readonly Task<bool> Known = Task.FromResult(true);

    /// <summary>
    /// Makes sure the campaign's epoch key exists (false, and the campaign marked for catch-up,
    /// when Redis is unreachable). A sharded engine asks every shard on a campaign's first finish,
    /// not only the player's: a shard nobody has played on yet is then told apart from a shard
    /// that lost its keys.
    /// </summary>
    /// <param name="roundId">The round that waits for it, missed when Redis is unreachable; none for a shard asked on another's behalf.</param>
    internal Task<bool> EnsureCampaignAsync(string campaign, long roundId = long.MaxValue)
    {
        if (knownCampaigns.ContainsKey(campaign)) return Known;
        return Ensure();

        async Task<bool> Ensure()
        {
            try
            {
                await db.StringSetAsync(RedisKeys.Epoch(campaign), 1, when: When.NotExists);
                knownCampaigns.TryAdd(campaign, 0);
                return true;
            }
            catch (Exception e) when (Unreachable(e))
            {
                MarkForCatchUp(campaign, roundId);
                return false;
            }
        }
    }

    Task<FinishRanks> Enqueue(RoundFinished round, long encoded)
    {
        var finish = new PendingFinish(round, encoded);
        finishQueues.GetOrAdd(round.CampaignId, static (_, self) => new Coalescer<PendingFinish>(FinishBatch, BatchesInFlight, self.SendFinishesAsync), this).Add(finish);
        return finish.Task;
    }

    /// <summary>
    /// A live finish waiting for its batch's reply. Its continuation runs inline, on the thread
    /// that read the batch's reply (a thread-pool thread, never the connection's reader): handing
    /// each of a batch's callers to the thread pool measured as a large part of the client's CPU
    /// (wake-ups and idle spinning), on cores it shares with Redis.
    /// </summary>
    sealed class PendingFinish(RoundFinished round, long encoded) : TaskCompletionSource<FinishRanks>
    {
        public RoundFinished Round { get; } = round;
        public long Encoded { get; } = encoded;
    }

    /// <summary>
    /// Most finishes one script call applies. Measured on 2 cores with a 1 M board: a finish costs
    /// Redis 25–30 µs inside a batch, so a full batch holds Redis ~2 ms; batches grow that large
    /// only when Redis is saturated and the previous ones are still on their way.
    /// </summary>
    const int FinishBatch = 64;
    /// <summary>
    /// Batches on their way at once: two keep Redis busy (one runs while the next waits), and
    /// fewer slots mean larger batches at the same load. Redis time a finish, script alone, at
    /// 1 M members by batch size: 1 → 36 µs, 4 → 32, 16 → 28, 64 → 25.
    /// </summary>
    const int BatchesInFlight = 2;

    /// <summary>Sends one batch of live finishes of one campaign and completes them; never throws.</summary>
    async Task SendFinishesAsync(List<PendingFinish> batch)
    {
        var campaign = batch[0].Round.CampaignId;
        try
        {
            Func<int, (RoundFinished Round, long Encoded)> at = i => (batch[i].Round, batch[i].Encoded);
            var reply = (long[])(await Finishes(campaign, batch.Count, at, replay: false))!;
            var ranks = Ranks(campaign, batch.Count, at, reply, replay: false);
            for (var i = 0; i < batch.Count; i++) batch[i].TrySetResult(ranks[i]);
        }
        catch (Exception e)
        {
            if (Unreachable(e)) MarkForCatchUp(campaign, batch.Max(f => f.Round.RoundId));
            foreach (var f in batch)
                if (Unreachable(e)) f.TrySetResult(FinishRanks.PendingRanks);
                else f.TrySetException(e);
        }
    }

    /// <summary>One finish script call for <paramref name="count"/> rounds of one campaign, in order (see <see cref="RedisScripts.Finish"/>).</summary>
    Task<RedisResult> Finishes(string campaign, int count, Func<int, (RoundFinished Round, long Encoded)> at, bool replay)
    {
        var ck = keyCache.Campaign(campaign);
        var keys = new ScriptKeys(ck.Hold, ck.Epoch, ck.Last, ck.Applied, ck.Held);
        var args = new RedisValue[1 + count * RedisScripts.FinishArgStride];
        args[0] = replay ? "1" : "0";
        for (var i = 0; i < count; i++)
        {
            var (r, encoded) = at(i);
            var a = 1 + i * RedisScripts.FinishArgStride;
            args[a] = r.ParticipantId;
            args[a + 1] = r.RoundId;
            args[a + 2] = r.Rule switch { AggregationRule.BestOfAll => "b", AggregationRule.Sum => "s", _ => "g" };
            args[a + 3] = encoded;
            args[a + 4] = keys.Number(keyCache.Board(campaign, r.StageId, BoardScope.National, null));
            args[a + 5] = keys.Number(keyCache.Board(campaign, r.StageId, BoardScope.Unit, r.UnitCode));
            args[a + 6] = r.OrganisationId is { } org ? keys.Number(keyCache.Board(campaign, r.StageId, BoardScope.Organisation, org)) : 0;
            args[a + 7] = r.SumsGroupBests ? keys.Number(keyCache.GroupBest(campaign, r)) : 0;
        }
        return Evaluate(RedisScripts.Finish, keys.ToArray(), args);
    }

    /// <summary>Reads a finish script's reply: each round's ranks (<paramref name="at"/>, the rounds sent, is read only when the keys are gone).</summary>
    FinishRanks[] Ranks(string campaign, int count, Func<int, (RoundFinished Round, long Encoded)> at, long[] reply, bool replay)
    {
        var ranks = new FinishRanks[count];
        if (reply[0] < 0)
        {
            if (reply[0] == -2)
            {
                MarkForCatchUp(campaign, Enumerable.Range(0, count).Max(i => at(i).Round.RoundId));
                // Redis lost the campaign under a running rebuild: that rebuild must start over.
                if (replay) throw new RankingUnavailableException($"Campaign {campaign}'s keys vanished during a rebuild.", null);
            }
            Array.Fill(ranks, FinishRanks.PendingRanks);
            return ranks;
        }
        for (var i = 0; i < count; i++)
        {
            var r = reply.AsSpan(1 + i * RedisScripts.FinishReplyStride, RedisScripts.FinishReplyStride);
            ranks[i] = r[0] < 0 ? FinishRanks.Unranked
                : new FinishRanks(new Place(r[1], r[2]), new Place(r[3], r[4]), r[5] > 0 ? new Place(r[5], r[6]) : null, r[0], false);
        }
        return ranks;
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

    // --- What a ShardedRankingEngine asks of each shard. These throw when Redis is unreachable:
    //     the sharded engine decides what a missing shard means for its answer.

    internal RedisKey KeyOf(BoardKey board) => keyCache.Board(board.CampaignId, board.StageId, board.Scope, board.Code);

    /// <summary>
    /// Members with a value greater than <paramref name="value"/> on <paramref name="board"/>;
    /// concurrent callers share a script call. Null while the shard is being rebuilt or after it
    /// lost the campaign's keys (then it is marked for a catch-up).
    /// </summary>
    internal Task<Ahead?> CountAboveAsync(string campaignId, RedisKey board, long value)
    {
        var count = new PendingCount(campaignId, board, value);
        CountQueue(campaignId).Add(count);
        return count.Task;
    }

    /// <summary>As <see cref="CountAboveAsync"/> for several (board, value) of one caller, sent in one script call.</summary>
    internal Task<Ahead?>[] CountAboveAsync(string campaignId, ReadOnlySpan<(RedisKey Board, long Value)> counts)
    {
        var pending = new PendingCount[counts.Length];
        var tasks = new Task<Ahead?>[counts.Length];
        for (var i = 0; i < counts.Length; i++) tasks[i] = (pending[i] = new PendingCount(campaignId, counts[i].Board, counts[i].Value)).Task;
        CountQueue(campaignId).AddAll(pending);
        return tasks;
    }

    Coalescer<PendingCount> CountQueue(string campaignId) =>
        countQueues.GetOrAdd(campaignId, static (_, self) => new Coalescer<PendingCount>(MemberBatch / 2, BatchesInFlight, self.SendCountsAsync), this);

    /// <summary>Members ahead of a value on a shard's part of a board, and that part's size.</summary>
    internal readonly record struct Ahead(long Count, long Size);

    /// <summary>A count to be sent; its result is null when the shard cannot count whole (see <see cref="RedisScripts.Counts"/>).</summary>
    sealed class PendingCount(string campaignId, RedisKey board, long value) : TaskCompletionSource<Ahead?>
    {
        public string CampaignId { get; } = campaignId;
        public RedisKey Board { get; } = board;
        public long Value { get; } = value;
    }

    async Task SendCountsAsync(List<PendingCount> batch)
    {
        try
        {
            var campaign = batch[0].CampaignId;
            var ck = keyCache.Campaign(campaign);
            var keys = new ScriptKeys(ck.Hold, ck.Epoch);
            var args = new RedisValue[batch.Count * 2];
            for (var i = 0; i < batch.Count; i++)
                (args[2 * i], args[2 * i + 1]) = (keys.Number(batch[i].Board), batch[i].Value);
            var r = (long[])(await Evaluate(RedisScripts.Counts, keys.ToArray(), args))!;
            if (r.Length > 0 && r[0] < 0)
            {
                if (r[0] == -2) MarkForCatchUp(campaign);
                foreach (var count in batch) count.TrySetResult(null);
                return;
            }
            for (var i = 0; i < batch.Count; i++) batch[i].TrySetResult(new Ahead(r[2 * i], r[2 * i + 1]));
        }
        catch (Exception e)
        {
            foreach (var c in batch) c.TrySetException(e);
        }
    }

    /// <summary>The person's value on the board, or null.</summary>
    internal async Task<long?> ValueAsync(BoardKey board, long participantId) =>
        await db.SortedSetScoreAsync(KeyOf(board), participantId) is { } v ? (long)v : null;

    internal async Task<long?[]> ValuesAsync(BoardKey board, IReadOnlyList<long> participantIds)
    {
        var scores = await db.SortedSetScoresAsync(KeyOf(board), participantIds.Select(i => (RedisValue)i).ToArray());
        return scores.Select(s => s is { } v ? (long?)(long)v : null).ToArray();
    }

    /// <summary>The board's best <paramref name="count"/>, best first, unranked.</summary>
    internal async Task<(long Participant, long Value)[]> BestAsync(BoardKey board, int count) =>
        count == 0 ? [] : (await db.SortedSetRangeByRankWithScoresAsync(KeyOf(board), 0, count - 1, Order.Descending))
            .Select(e => (long.Parse(e.Element!), (long)e.Score)).ToArray();

    /// <summary>
    /// What this shard holds near <paramref name="value"/>: the <paramref name="k"/> members just
    /// above it, up to 2k + 1 members equal to it, and the <paramref name="k"/> just below.
    /// </summary>
    internal async Task<(long Participant, long Value)[]> NearAsync(BoardKey board, long value, int k)
    {
        var key = KeyOf(board);
        var above = db.SortedSetRangeByScoreWithScoresAsync(key, value, double.PositiveInfinity, Exclude.Start, Order.Ascending, 0, k);
        var equal = db.SortedSetRangeByScoreWithScoresAsync(key, value, value, Exclude.None, Order.Ascending, 0, 2 * k + 1);
        var below = db.SortedSetRangeByScoreWithScoresAsync(key, double.NegativeInfinity, value, Exclude.Stop, Order.Descending, 0, k);
        return (await above).Concat(await equal).Concat(await below).Select(e => (long.Parse(e.Element!), (long)e.Score)).ToArray();
    }

    internal Task<long> SizeAsync(BoardKey board) => db.SortedSetLengthAsync(KeyOf(board));

    public Task<IReadOnlyList<BoardEntry>> GetTopAsync(BoardKey board, int count, CancellationToken cancellationToken = default) =>
        Guard(() => cache.TopAsync(board, count, FetchTop), (IReadOnlyList<BoardEntry>)[]);

    async Task<IReadOnlyList<BoardEntry>> FetchTop(BoardKey board, int count)
    {
        return Ranked(await BestAsync(board, count), 0, firstRank: 1);
    }

    /// <summary>Competition ranks for members listed best first: equal values share a rank.</summary>
    internal static List<BoardEntry> Ranked(IEnumerable<(long Participant, long Value)> members, long firstPosition, long firstRank)
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

    public Task<BoardEntry?> GetMemberAsync(BoardKey board, long participantId, CancellationToken cancellationToken = default)
    {
        var lookup = new PendingMember(KeyOf(board), participantId);
        MemberQueue(board.CampaignId).Add(lookup);
        return Guard(async () => (await lookup.Task)?.Entry, null);
    }

    public Task<IReadOnlyList<BoardStanding?>> GetStandingsAsync(IReadOnlyList<BoardKey> boards, long participantId, CancellationToken cancellationToken = default)
    {
        if (boards.Count == 0) return Task.FromResult<IReadOnlyList<BoardStanding?>>([]);
        var lookups = StandingsAsync(boards, participantId);
        return Guard(async () => (IReadOnlyList<BoardStanding?>)await Task.WhenAll(lookups), new BoardStanding?[boards.Count]);
    }

    /// <summary>
    /// A member's standing on each board of one campaign, asked in one script call (the lookups
    /// leave together); on a shard, the standing among the shard's own members. Null for a board
    /// the member is not on, and while Redis is unreachable (as a lookup answers).
    /// </summary>
    internal Task<BoardStanding?>[] StandingsAsync(IReadOnlyList<BoardKey> boards, long participantId)
    {
        var campaignId = BoardKey.CampaignOf(boards);
        var lookups = new PendingMember[boards.Count];
        var tasks = new Task<BoardStanding?>[boards.Count];
        for (var i = 0; i < boards.Count; i++) tasks[i] = (lookups[i] = new PendingMember(KeyOf(boards[i]), participantId)).Task;
        MemberQueue(campaignId).AddAll(lookups);
        return tasks;
    }

    Coalescer<PendingMember> MemberQueue(string campaignId) =>
        memberQueues.GetOrAdd(campaignId, static (_, self) => new Coalescer<PendingMember>(MemberBatch, BatchesInFlight, self.SendMembersAsync), this);

    /// <summary>A rank lookup waiting for its batch's reply (continuations inline, as <see cref="PendingFinish"/>).</summary>
    sealed class PendingMember(RedisKey board, long participantId) : TaskCompletionSource<BoardStanding?>
    {
        public RedisKey Board { get; } = board;
        public long ParticipantId { get; } = participantId;
    }

    /// <summary>A lookup costs Redis ~8 µs on a 1 M board; 128 of them hold it ~1 ms.</summary>
    const int MemberBatch = 128;

    /// <summary>Sends one batch of rank lookups (see <see cref="RedisScripts.Members"/>); never throws.</summary>
    async Task SendMembersAsync(List<PendingMember> batch)
    {
        try
        {
            var keys = new ScriptKeys();
            var args = new RedisValue[batch.Count * 2];
            for (var i = 0; i < batch.Count; i++)
            {
                args[2 * i] = keys.Number(batch[i].Board);
                args[2 * i + 1] = batch[i].ParticipantId;
            }
            var r = (long[])(await Evaluate(RedisScripts.Members, keys.ToArray(), args))!;
            for (var i = 0; i < batch.Count; i++)
                batch[i].TrySetResult(r[3 * i] == 0 ? null : new BoardStanding(new BoardEntry(batch[i].ParticipantId, r[3 * i], r[3 * i + 1]), r[3 * i + 2]));
        }
        catch (Exception e)
        {
            // Reads answer "nothing" rather than fail while Redis is unreachable.
            foreach (var m in batch)
                if (Unreachable(e)) m.TrySetResult(null);
                else m.TrySetException(e);
        }
    }

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

    public async Task<CampaignHealth> CheckAsync(string campaignId, CancellationToken cancellationToken = default)
    {
        var ck = keyCache.Campaign(campaignId);
        var values = db.StringGetAsync([ck.Epoch, ck.Applied, ck.Hold]);
        try
        {
            var v = await values.WaitAsync(options.ReadTimeout, cancellationToken);
            return new CampaignHealth(Reachable: true, KeysPresent: v[0].HasValue, AppliedRounds: v[1].HasValue ? (long)v[1] : 0, Held: v[2].HasValue);
        }
        catch (Exception e) when (Unreachable(e))
        {
            return new CampaignHealth(Reachable: false, false, 0);
        }
    }

    public Task RefreshAsync(CancellationToken cancellationToken = default) =>
        Guard(async () => { await cache.RefreshAsync(FetchTop); return 0; }, 0);

    /// <summary>
    /// A second caller while a rebuild of the campaign runs on this node (the watchdog's catch-up
    /// beside an admin's rebuild, or the other way round) waits for that one and gets its report:
    /// the one running writes every round stored until it ends.
    /// </summary>
    public Task<RebuildReport> RebuildAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default) =>
        RebuildAsync(campaignId, roundsAfter, catchUp: false, cancellationToken);

    public Task<RebuildReport> CatchUpAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default) =>
        RebuildAsync(campaignId, roundsAfter, catchUp: true, cancellationToken);

    async Task<RebuildReport> RebuildAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, bool catchUp, CancellationToken cancellationToken)
    {
        var mine = new TaskCompletionSource<RebuildReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        while (!rebuilding.TryAdd(campaignId, mine.Task))
            if (rebuilding.TryGetValue(campaignId, out var running)) return await running.WaitAsync(cancellationToken);
        try
        {
            var report = await RebuildAloneAsync(campaignId, roundsAfter, catchUp, mine.Task, cancellationToken);
            mine.SetResult(report);
            return report;
        }
        catch (Exception e)
        {
            mine.SetException(e);
            _ = mine.Task.Exception; // observed: nobody may have joined
            throw;
        }
        finally
        {
            rebuilding.TryRemove(KeyValuePair.Create(campaignId, mine.Task));
        }
    }

    /// <summary>
    /// A node that missed rounds (a batch failed: Redis away, or its keys gone) declines its live
    /// finishes until it has caught up, so that none overtakes a missed round of the same person.
    /// After an outage every node has missed rounds, and each used to rebuild the whole campaign in
    /// turn, each under the hold, every finish of the campaign pending until the last was done
    /// (three nodes, three rebuilds). Tickets make one rebuild serve them all: a node that missed
    /// rounds takes a ticket (INCR of <c>asked</c>) once Redis answers; a rebuild reads
    /// <c>asked</c> under the hold before its last pass over the store, and when it is done records
    /// it as <c>covered</c>, with <c>through</c>, the highest round id it applied. The rounds a node
    /// missed in a failed batch were committed before the batch was sent, so before its ticket:
    /// when <c>covered</c> has reached its ticket, a rebuild read them all. What the node declined
    /// since then is in the store after <c>through</c>: it replays those, under the hold (a few
    /// seconds' rounds, not the campaign), and is caught up. A node whose watchdog looks only after
    /// such a rebuild ended takes its ticket too late for it, but is covered by ids instead: when
    /// every round it failed to apply has an id at or below <c>through</c> (ids follow commit
    /// order), that rebuild read them. An explicit rebuild (an admin's, not
    /// <paramref name="catchUp"/>) always rebuilds the whole campaign.
    /// </summary>
    async Task<RebuildReport> RebuildAloneAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, bool catchUp,
        Task<RebuildReport> mine, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        (long Through, long Applied)? coveredThrough = null;
        // Hold every node's live finishes (they answer Pending and are replayed below). The hold
        // is a lease of this node's: another node's rebuild of the campaign must not run beside
        // this one (each deletes the keys the other writes), and the expiry frees the campaign
        // should this node die mid-rebuild. Refused before anything is marked: nothing was missed.
        // A rebuild of this node's that failed left its hold (its keys are half-written until it
        // is tried again), so this node's own hold is taken back.
        try
        {
            long? ticket = catchUp && needsCatchUp.ContainsKey(campaignId)
                ? tickets.TryGetValue(campaignId, out var taken) ? taken
                    : tickets.GetOrAdd(campaignId, await db.StringIncrementAsync(RedisKeys.Asked(campaignId)))
                : null;
            var hold = RedisKeys.Hold(campaignId);
            if (!await db.LockTakeAsync(hold, holder, HoldFor) && !await db.LockExtendAsync(hold, holder, HoldFor))
                throw new RankingUnavailableException($"Campaign {campaignId} is being rebuilt by another node.", null);
            if (ticket is not null)
            {
                // Read under the hold: a rebuild that ended a moment ago has written them.
                var covered = await db.StringGetAsync([RedisKeys.Covered(campaignId), RedisKeys.Through(campaignId), RedisKeys.ThroughApplied(campaignId)]);
                // Or by ids: results' ids follow commit order (on PostgreSQL too: the group commit
                // takes turns), so a rebuild that applied through id T read every round at or
                // below it. A node whose missed rounds all lie there is covered, even when it looks
                // only after that rebuild ended (its ticket then came too late for it).
                var missed = missedThrough.GetValueOrDefault(campaignId, long.MaxValue);
                if (covered[1].HasValue && covered[2].HasValue && ((long?)covered[0] >= ticket || missed <= (long)covered[1]))
                    coveredThrough = ((long)covered[1], (long)covered[2]);
            }
        }
        catch (Exception e) when (Unreachable(e))
        {
            MarkRebuildFailed(campaignId);
            throw new RankingUnavailableException($"Rebuilding campaign {campaignId} failed: Redis is unreachable.", e);
        }
        // Renewed in the background too: writing the boards of 20 million people takes longer than the expiry.
        using var renewing = new CancellationTokenSource();
        var renewal = RenewHoldAsync(campaignId, renewing.Token);
        try
        {
            // Loaded up front: a NOSCRIPT retry would resend replayed rounds out of order.
            await LoadScriptsAsync();
            // Rounds read from the store: each is applied once, so with what the boards held
            // before they are the applied count, set under the hold at the end. (The script counts
            // as it goes, but a covered catch-up replays best-of-all rounds other nodes applied
            // live since, which it cannot tell apart: see RedisScripts.Finish.)
            long rounds, last, appliedBefore;
            // The people the passes add to the bulk load's (the model is kept through the passes,
            // seconds of rounds, to tell them apart: its peak was the bulk load's anyway).
            var people = new HashSet<long>();
            CampaignBoards? model = null;
            if (coveredThrough is { } covered && await db.KeyExistsAsync(RedisKeys.Epoch(campaignId)))
                (rounds, last, appliedBefore) = (0, covered.Through, covered.Applied); // the boards hold every round to there: only the rounds after it
            else
            {
                coveredThrough = null;
                await db.StringIncrementAsync(RedisKeys.Epoch(campaignId));
                await DeleteCampaignKeysAsync(campaignId);
                // The bulk of the rounds is replayed in memory and written as final boards; the
                // rounds that arrive meanwhile go through the finish script on top of them.
                (model, last) = await BulkLoadAsync(campaignId, roundsAfter(0), cancellationToken);
                (rounds, appliedBefore) = (model.AppliedRounds, 0);
            }
            void Seen(long participant)
            {
                if (model?.Knows(participant) != true) people.Add(participant);
            }
            for (var pass = 0; pass < 4; pass++)
            {
                var (n, max) = await ReplayAsync(campaignId, roundsAfter(last), Seen, cancellationToken);
                rounds += n;
                last = Math.Max(last, max);
                // Held rounds up to here were read: the held set stays the size of a pass, not of a 20 M rebuild's minutes.
                await db.SortedSetRemoveRangeByScoreAsync(RedisKeys.Held(campaignId), double.NegativeInfinity, last);
                if (n < 100) break;
            }
            // Read under the hold, just before a last pass over the store: every ticket up to it was
            // taken after its node's missed rounds were committed, so the reads have found them by
            // the end of that pass. A node that asked while this rebuild ran (minutes, at 20 million)
            // is served by it.
            var asked = (long?)await db.StringGetAsync(RedisKeys.Asked(campaignId)) ?? 0;
            // From here this node's finishes go to Redis, where the hold turns them away and keeps
            // them: what it declined until now was committed before, so the last pass reads it.
            missedThrough.TryRemove(campaignId, out _);
            needsCatchUp.TryRemove(campaignId, out _);
            tickets.TryRemove(campaignId, out _);
            var (final, finalMax) = await ReplayAsync(campaignId, roundsAfter(last), Seen, cancellationToken);
            rounds += final;
            last = Math.Max(last, finalMax);
            var applied = appliedBefore + rounds;
            await db.StringSetAsync([new(RedisKeys.Applied(campaignId), applied), new(RedisKeys.Covered(campaignId), asked),
                new(RedisKeys.Through(campaignId), last), new(RedisKeys.ThroughApplied(campaignId), applied)]);
            var held = await Evaluate(RedisScripts.Release, [RedisKeys.Hold(campaignId), RedisKeys.Held(campaignId)], [holder, last]);
            rebuilding.TryRemove(KeyValuePair.Create(campaignId, mine));
            cache.Invalidate(campaignId);
            // The finishes the hold turned away after the last pass read the store: applied now,
            // once each (a finish after the release applies itself). Null: the hold had lapsed, and
            // whoever holds it now applies them.
            long late = 0;
            if (!held.IsNull && (long[])held! is { Length: > 0 } ids)
            {
                var wanted = ids.ToHashSet();
                (late, _) = await ReplayAsync(campaignId, Only(roundsAfter(last), wanted), Seen, cancellationToken);
            }
            return new RebuildReport(campaignId, rounds + late, (model?.Participants ?? 0) + people.Count, Stopwatch.GetElapsedTime(started), Covered: coveredThrough is not null);

            static async IAsyncEnumerable<RoundFinished> Only(IAsyncEnumerable<RoundFinished> rounds, HashSet<long> ids)
            {
                await foreach (var round in rounds)
                {
                    if (ids.Remove(round.RoundId)) yield return round;
                    if (ids.Count == 0) yield break;
                }
            }
        }
        catch (RankingUnavailableException)
        {
            MarkRebuildFailed(campaignId);
            throw;
        }
        catch (Exception e) when (Unreachable(e))
        {
            MarkRebuildFailed(campaignId);
            throw new RankingUnavailableException($"Rebuilding campaign {campaignId} failed: Redis is unreachable.", e);
        }
        finally
        {
            renewing.Cancel();
            await renewal;
        }
    }

    /// <summary>Extends this rebuild's hold every third of its expiry until stopped, or until the hold is no longer this node's.</summary>
    async Task RenewHoldAsync(string campaignId, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(HoldFor / 3, stop);
                if (!await db.LockExtendAsync(RedisKeys.Hold(campaignId), holder, HoldFor)) return; // released, or lost: the rebuild's next renewal says which
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (Unreachable(e)) { } // the rebuild's own calls fail on it too
    }

    /// <summary>This engine's name on the holds it takes (<see cref="RebuildAsync"/>).</summary>
    readonly RedisValue holder = Guid.NewGuid().ToString("N");
    static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(60);

    /// <summary>Renews this rebuild's hold; a hold that lapsed (the rebuild stalled past its expiry) ends the rebuild, which is tried again.</summary>
    async Task HoldAsync(string campaignId)
    {
        if (!await db.LockExtendAsync(RedisKeys.Hold(campaignId), holder, HoldFor))
            throw new RankingUnavailableException($"Rebuilding campaign {campaignId} lost its hold on it.", null);
    }

    async Task DeleteCampaignKeysAsync(string campaignId)
    {
        // The tickets outlive a rebuild: a node's ticket counts against the next rebuild's reading.
        var keep = new HashSet<RedisKey> { RedisKeys.Hold(campaignId), RedisKeys.Epoch(campaignId), RedisKeys.Asked(campaignId) };
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
    /// A rebuild's first pass: every round so far applied to an in-memory model of the campaign
    /// (<see cref="CampaignBoards"/>, which applies the rules exactly as the finish script does),
    /// then the model written as the keys the script would have left: boards and group bests with
    /// multi-member ZADD, the last-round hash with multi-field HSET (when a stage adds rounds up), and the applied count. Through the script a round
    /// costs Redis ~50–90 µs at 1 M members (a skiplist walk per board, per round); here a member
    /// costs ~1–2 µs once, whatever the number of rounds it played.
    /// </summary>
    async Task<(CampaignBoards Model, long MaxRoundId)> BulkLoadAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, CancellationToken cancellationToken)
    {
        var model = new CampaignBoards(campaignId);
        long n = 0, max = 0;
        var guarded = false;
        await foreach (var round in rounds.WithCancellation(cancellationToken))
        {
            if (round.CampaignId != campaignId) throw new ArgumentException($"Round {round.RoundId} belongs to campaign {round.CampaignId}, not {campaignId}.");
            model.Apply(round, round.Validate(), replay: true);
            guarded |= round.Rule != AggregationRule.BestOfAll;
            n++;
            max = Math.Max(max, round.RoundId);
            if (n % 200_000 == 0) await HoldAsync(campaignId);
        }
        await HoldAsync(campaignId);

        var writes = new BulkWriter(window: 16);
        foreach (var (stageId, stage) in model.Stages)
        {
            await writes.SortedSetAsync(db, keyCache.Board(campaignId, stageId, BoardScope.National, null), stage.National.All());
            foreach (var (code, board) in stage.Units) await writes.SortedSetAsync(db, keyCache.Board(campaignId, stageId, BoardScope.Unit, code), board.All());
            foreach (var (code, board) in stage.Organisations) await writes.SortedSetAsync(db, keyCache.Board(campaignId, stageId, BoardScope.Organisation, code), board.All());
            foreach (var group in stage.GroupBest.GroupBy(g => g.Key.Item3 is { } name
                         ? keyCache.GroupBest(campaignId, stageId, name) : keyCache.DayBest(campaignId, stageId, g.Key.Item2)))
                await writes.SortedSetAsync(db, group.Key, group.Select(g => (g.Key.Item1, g.Value)));
        }
        await HoldAsync(campaignId);

        var keys = keyCache.Campaign(campaignId);
        // Only the rules that add rounds up read the guard (RedisScripts.Finish): a campaign of
        // best-of-all stages keeps no hash of its millions of participants.
        if (guarded) await writes.HashAsync(db, keys.Last, model.People().Select(p => new HashEntry(p.ParticipantId, p.LastRoundId)));
        writes.Add(db.StringSetAsync(keys.Applied, model.AppliedRounds));
        await writes.DrainAsync();
        return (model, max);
    }

    /// <summary>
    /// Pipelined bulk writes with a bounded number of commands in flight, so a 20 M-member load
    /// neither waits a round trip per command nor queues every command in memory at once.
    /// </summary>
    sealed class BulkWriter(int window)
    {
        public const int Chunk = 1000;
        readonly Queue<Task> inFlight = new();

        public void Add(Task write) => inFlight.Enqueue(write);

        public async Task SortedSetAsync(IDatabase db, RedisKey key, IEnumerable<(long Member, long Value)> members)
        {
            foreach (var chunk in members.Chunk(Chunk))
                await AddAsync(db.SortedSetAddAsync(key, chunk.Select(m => new SortedSetEntry(m.Member, m.Value)).ToArray()));
        }

        public async Task HashAsync(IDatabase db, RedisKey key, IEnumerable<HashEntry> fields)
        {
            foreach (var chunk in fields.Chunk(Chunk)) await AddAsync(db.HashSetAsync(key, chunk));
        }

        async Task AddAsync(Task write)
        {
            inFlight.Enqueue(write);
            while (inFlight.Count > window) await inFlight.Dequeue();
        }

        public async Task DrainAsync()
        {
            while (inFlight.Count > 0) await inFlight.Dequeue();
        }
    }

    /// <summary>
    /// Replays rounds through the finish script in batches of <see cref="ReplayBatch"/>, up to
    /// <see cref="RankingOptions.RebuildWindow"/> rounds in flight: one connection executes them in
    /// the order sent, so a person's rounds apply in order, and memory stays bounded whatever the
    /// number of rounds.
    /// </summary>
    async Task<(long Count, long MaxRoundId)> ReplayAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, Action<long>? seen, CancellationToken cancellationToken)
    {
        var window = new Queue<((RoundFinished Round, long Encoded)[] Rounds, Task<RedisResult> Reply)>();
        var batch = new List<(RoundFinished Round, long Encoded)>(ReplayBatch);
        long n = 0, max = 0, inFlight = 0;
        async Task Drain(long keep)
        {
            while (inFlight > keep)
            {
                var (sent, reply) = window.Dequeue();
                Ranks(campaignId, sent.Length, i => sent[i], (long[])(await reply)!, replay: true);
                inFlight -= sent.Length;
            }
        }
        void Send()
        {
            var sent = batch.ToArray();
            batch.Clear();
            window.Enqueue((sent, Finishes(campaignId, sent.Length, i => sent[i], replay: true)));
            inFlight += sent.Length;
        }
        await foreach (var round in rounds.WithCancellation(cancellationToken))
        {
            if (round.CampaignId != campaignId) throw new ArgumentException($"Round {round.RoundId} belongs to campaign {round.CampaignId}, not {campaignId}.");
            batch.Add((round, round.Validate()));
            seen?.Invoke(round.ParticipantId);
            n++;
            max = Math.Max(max, round.RoundId);
            if (batch.Count == ReplayBatch) Send();
            if (inFlight >= options.RebuildWindow) await Drain(options.RebuildWindow / 2);
            if (n % 100_000 == 0) await HoldAsync(campaignId);
        }
        if (batch.Count > 0) Send();
        await Drain(0);
        return (n, max);
    }

    const int ReplayBatch = 128;

    public async Task<ReconcileReport> ReconcileAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, CancellationToken cancellationToken = default)
    {
        var model = new CampaignBoards(campaignId);
        await InProcessRankingEngine.ReplayAsync(model, rounds, cancellationToken);
        try
        {
            return await Reconciler.CompareAsync(model, new Reconciler.Live(SizeAsync, ValuesAsync), cancellationToken);
        }
        catch (Exception e) when (Unreachable(e))
        {
            throw new RankingUnavailableException($"Reconciling campaign {campaignId} failed: Redis is unreachable.", e);
        }
    }

    /// <summary>
    /// Reads wait at most <see cref="RankingOptions.ReadTimeout"/> and answer "nothing" rather than
    /// fail while Redis is unreachable or frozen (cached boards keep answering from the cache).
    /// </summary>
    async Task<T> Guard<T>(Func<Task<T>> read, T unavailable)
    {
        try { return await read().WaitAsync(options.ReadTimeout); }
        catch (Exception e) when (Unreachable(e)) { return unavailable; }
    }

    public async ValueTask DisposeAsync()
    {
        refreshTimer?.Dispose();
        if (ownsConnection) await redis.DisposeAsync();
    }
}

/// <summary>Thrown by rebuild and reconcile when the ranking store cannot be reached.</summary>
public sealed class RankingUnavailableException(string message, Exception? inner) : Exception(message, inner);
