using System.Diagnostics;
using StackExchange.Redis;

namespace Quiz.Ranking;

/// <summary>
/// A campaign's boards spread over K independent Redis primaries (issue 18; <c>Ranking:Shards</c>).
/// Each shard is a whole <see cref="RedisRankingEngine"/> for the participants placed on it: its
/// part of every board (national, unit, organisation) and their last rounds. So a finish runs one script on one shard, where one campaign on one Redis used to
/// put every finish of the country on one core. A person is placed by a hash of their id
/// (<c>Ranking:ShardBy</c> "Participant") or by their province ("Province": a province's whole
/// region hierarchy on one shard). What needs the others:
/// <list type="bullet">
/// <item>an exact rank is 1 + the members ahead on every shard: the home shard's script ranks the
/// person among its own, and each other shard counts its members with a greater value (one
/// coalesced script call a shard, in parallel). Ties stay ties across shards: equal values count
/// nowhere as ahead. By province, a unit board is whole on its shard and needs no count elsewhere;</item>
/// <item>a top list merges the shards' top lists (the best N of the country are among the best N of
/// each shard).</item>
/// </list>
/// A shard that cannot be reached makes a finish answer Pending, whoever played it: an exact rank
/// needs every shard's count. Rounds of people on the shards still up are on their boards at once;
/// the shard that was away is caught up from the store alone (<see cref="RebuildAsync"/> rebuilds
/// the shards that missed rounds).
/// </summary>
public sealed class ShardedRankingEngine : IRankingEngine
{
    readonly RedisRankingEngine[] shards;
    readonly RankingOptions options;
    readonly BoardCache cache;
    readonly ITimer refreshTimer;

    /// <summary>By province (<c>Ranking:ShardBy</c> "Province") rather than by participant.</summary>
    readonly bool byProvince;

    ShardedRankingEngine(RedisRankingEngine[] shards, RankingOptions options, TimeProvider time)
    {
        this.shards = shards;
        this.options = options;
        byProvince = options.ShardBy == "Province";
        cache = new BoardCache(options, time);
        foreach (var shard in shards)
        {
            shard.CatchUpNeeded += campaign => CatchUpNeeded?.Invoke(campaign);
            shard.Reconnected += () => Reconnected?.Invoke();
        }
        refreshTimer = cache.StartRefreshing(() => RefreshAsync());
    }

    /// <summary>Connects to every shard, as <see cref="RedisRankingEngine.ConnectAsync(string, RankingOptions?, TimeProvider?)"/> does to one.</summary>
    public static async Task<ShardedRankingEngine> ConnectAsync(IReadOnlyList<string> configurations, RankingOptions? options = null, TimeProvider? time = null)
    {
        if (configurations.Count == 0) throw new ArgumentException("At least one shard is needed.", nameof(configurations));
        options ??= new RankingOptions();
        time ??= TimeProvider.System;
        options.CheckProvinceShards(configurations.Count);
        var shards = new RedisRankingEngine[configurations.Count];
        for (var i = 0; i < shards.Length; i++) shards[i] = await RedisRankingEngine.ConnectAsync(configurations[i], options, time, refresh: false, sockets: SocketManager.ThreadPool);
        return new ShardedRankingEngine(shards, options, time);
    }

    public int ShardCount => shards.Length;

    /// <summary>Whether people are placed by province (else by a hash of their id).</summary>
    public bool ByProvince => byProvince;

    /// <summary>The shard a round's person lives on, by <c>Ranking:ShardBy</c>.</summary>
    public int ShardOf(RoundFinished round) => byProvince ? ShardOfProvince(round.RegionPath[0]) : ShardOf(round.ParticipantId);

    /// <summary>
    /// The shard of a province's people: where <c>Ranking:ProvinceShards</c> puts it, else its
    /// code's number modulo K (a stable hash of the code when it is not a number).
    /// </summary>
    public int ShardOfProvince(string provinceCode)
    {
        if (options.ProvinceShards.TryGetValue(provinceCode, out var shard)) return shard;
        if (long.TryParse(provinceCode, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
            return (int)(number % shards.Length);
        var hash = 2166136261u; // FNV-1a: the same on every node and every run, unlike string.GetHashCode
        foreach (var c in provinceCode) hash = (hash ^ c) * 16777619u;
        return (int)(hash % (uint)shards.Length);
    }

    /// <summary>
    /// The shard a person's entries live on when placed by participant: a hash of the id (ids are
    /// handed out in order, so the id itself modulo K would put a region's registration wave on one
    /// shard). Changing the number of shards moves people: rebuild every campaign after it.
    /// </summary>
    public int ShardOf(long participantId)
    {
        if (byProvince) throw new InvalidOperationException("People are placed by province: their shard follows from their region, not their id.");
        var x = (ulong)participantId + 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (int)((x ^ (x >> 31)) % (ulong)shards.Length);
    }

    /// <summary>
    /// The shard holding a member of a board, and their value there; null when no shard has them.
    /// By participant it is one lookup on the shard their id names; by province the engine does not
    /// know a person's region, so every shard is asked at once (a person is on one shard only).
    /// </summary>
    async Task<(int Shard, long Value)?> FindAsync(BoardKey board, long participantId)
    {
        if (!byProvince)
        {
            var home = ShardOf(participantId);
            return await shards[home].ValueAsync(board, participantId) is { } value ? (home, value) : null;
        }
        var values = await Task.WhenAll(shards.Select(s => s.ValueAsync(board, participantId)));
        for (var s = 0; s < values.Length; s++)
            if (values[s] is { } value) return (s, value);
        return null;
    }

    public event Action<string>? CatchUpNeeded;
    public event Action? Reconnected;

    static bool Unreachable(Exception e) => RedisRankingEngine.Unreachable(e);

    public bool NeedsCatchUp(string campaignId) => shards.Any(s => s.NeedsCatchUp(campaignId));

    public async Task<FinishRanks> RecordFinishAsync(RoundFinished round, CancellationToken cancellationToken = default)
    {
        var home = ShardOf(round);
        // Every shard holds the campaign's epoch from its first finish on, so the watchdog reads a
        // shard without players yet as present, and one restarted empty as having lost its keys.
        if (shards.Length > 1 && !everyShardKnows.ContainsKey(round.CampaignId) && !await EveryShardKnowsAsync(round.CampaignId))
            return FinishRanks.PendingRanks;
        var local = await shards[home].RecordFinishAsync(round, cancellationToken);
        if (local.Pending || local.National is null || shards.Length == 1) return local;
        // Each other shard counts its people ahead on the person's boards, all in one script call:
        // by participant every board is spread over the shards; by province the person's county is
        // whole on the home shard, but the country and an organisation (whose people may live in
        // several provinces) are not.
        var organisation = local.Organisation is not null;
        var boards = new (RedisKey Board, long Value)[1 + (byProvince ? 0 : 1) + (organisation ? 1 : 0)];
        boards[0] = (shards[home].KeyOf(BoardKey.National(round.CampaignId, round.StageId)), local.Value);
        if (!byProvince) boards[1] = (shards[home].KeyOf(BoardKey.Unit(round.CampaignId, round.StageId, round.UnitCode)), local.Value);
        if (organisation) boards[^1] = (shards[home].KeyOf(BoardKey.Organisation(round.CampaignId, round.StageId, round.OrganisationId!)), local.Value);
        if (await AheadElsewhereAsync(round.CampaignId, home, boards) is not { } ahead) return FinishRanks.PendingRanks;
        return local with
        {
            National = Plus(local.National, ahead[0]),
            Unit = byProvince ? local.Unit : Plus(local.Unit, ahead[1]),
            Organisation = organisation ? Plus(local.Organisation, ahead[^1]) : null,
        };
    }

    static Place? Plus(Place? own, RedisRankingEngine.Ahead elsewhere) =>
        own is { } p ? new Place(p.Rank + elsewhere.Count, p.Size + elsewhere.Size) : null;

    /// <summary>Campaigns whose epoch every shard holds, as far as this node has made sure: one lookup a finish after the first.</summary>
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> everyShardKnows = new(StringComparer.Ordinal);

    async Task<bool> EveryShardKnowsAsync(string campaignId)
    {
        try
        {
            if (!(await Task.WhenAll(shards.Select(s => s.EnsureCampaignAsync(campaignId))).WaitAsync(options.FinishTimeout)).All(k => k)) return false;
        }
        catch (TimeoutException) { return false; }
        everyShardKnows.TryAdd(campaignId, 0);
        return true;
    }

    /// <summary>
    /// Members ahead of each (board, value) and each board's size, summed over every shard but
    /// <paramref name="except"/> (one script call a shard); null when a shard did not answer
    /// within the finish's bound, or could not count whole (being rebuilt, or restarted empty).
    /// </summary>
    async Task<RedisRankingEngine.Ahead[]?> AheadElsewhereAsync(string campaignId, int except, (RedisKey Board, long Value)[] boards)
    {
        var counts = new List<Task<RedisRankingEngine.Ahead?>[]>(shards.Length - 1);
        for (var s = 0; s < shards.Length; s++)
            if (s != except) counts.Add(shards[s].CountAboveAsync(campaignId, boards));
        try
        {
            await Task.WhenAll(counts.SelectMany(c => c)).WaitAsync(options.FinishTimeout);
        }
        catch (Exception e) when (Unreachable(e))
        {
            return null;
        }
        var sums = new RedisRankingEngine.Ahead[boards.Length];
        foreach (var shard in counts)
            for (var b = 0; b < boards.Length; b++)
            {
                if (shard[b].Result is not { } each) return null; // a shard being rebuilt, or that lost its keys
                sums[b] = new RedisRankingEngine.Ahead(sums[b].Count + each.Count, sums[b].Size + each.Size);
            }
        return sums;
    }

    public async Task<CampaignHealth> CheckAsync(string campaignId, CancellationToken cancellationToken = default)
    {
        var each = await Task.WhenAll(shards.Select(s => s.CheckAsync(campaignId, cancellationToken)));
        return new CampaignHealth(each.All(h => h.Reachable), each.All(h => h.KeysPresent), each.Sum(h => h.AppliedRounds), each.Any(h => h.Held));
    }

    public Task<IReadOnlyList<BoardEntry>> GetTopAsync(BoardKey board, int count, CancellationToken cancellationToken = default) =>
        Guard(() => cache.TopAsync(board, count, FetchTop), (IReadOnlyList<BoardEntry>)[]);

    /// <summary>The shards' best N merged into the country's best N, in the order one sorted set would list them.</summary>
    async Task<IReadOnlyList<BoardEntry>> FetchTop(BoardKey board, int count)
    {
        var each = await Task.WhenAll(shards.Select(s => s.BestAsync(board, count)));
        return RedisRankingEngine.Ranked(each.SelectMany(e => e).OrderBy(e => e, Order).Take(count), 0, firstRank: 1);
    }

    /// <summary>Best first; equal values as Redis lists them (ZREVRANGE: the greater member string first).</summary>
    static readonly Comparer<(long Participant, long Value)> Order = Comparer<(long Participant, long Value)>.Create((a, b) =>
        a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(b.Participant.ToString(), a.Participant.ToString()));

    public Task<BoardEntry?> GetMemberAsync(BoardKey board, long participantId, CancellationToken cancellationToken = default) =>
        Guard(async () =>
        {
            if (!byProvince)
            {
                var home = ShardOf(participantId);
                var own = await shards[home].GetMemberAsync(board, participantId, cancellationToken);
                if (own is null || shards.Length == 1) return own;
                var ahead = await AheadElsewhereAsync(board.CampaignId, home, [(shards[home].KeyOf(board), own.Value)]);
                return ahead is null ? null : own with { Rank = own.Rank + ahead[0].Count };
            }
            if (await FindAsync(board, participantId) is not { } found) return null;
            // A unit board lives whole on its province's shard; the others are counted on every shard.
            if (board.Scope == BoardScope.Unit) return await shards[found.Shard].GetMemberAsync(board, participantId, cancellationToken);
            return new BoardEntry(participantId, 1 + await AheadEverywhereAsync(board, found.Value), found.Value);
        }, (BoardEntry?)null);

    /// <summary>
    /// The member and up to <paramref name="k"/> either side in the country's order: each shard's
    /// members next to the member's value are merged, and every listed value is ranked by counting
    /// the members ahead of it on every shard.
    /// </summary>
    public Task<IReadOnlyList<BoardEntry>> GetAroundAsync(BoardKey board, long participantId, int k, CancellationToken cancellationToken = default) =>
        Guard(async () =>
        {
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            if (await FindAsync(board, participantId) is not { Value: var value }) return (IReadOnlyList<BoardEntry>)[];
            var near = (await Task.WhenAll(shards.Select(s => s.NearAsync(board, value, k)))).SelectMany(n => n).Distinct().OrderBy(e => e, Order).ToList();
            // More than 2k + 1 people equal to the member on its own shard can leave it out of what that shard listed.
            if (!near.Contains((participantId, value))) near = near.Append((participantId, value)).OrderBy(e => e, Order).ToList();
            var at = near.FindIndex(e => e.Participant == participantId);
            var listed = near.GetRange(Math.Max(0, at - k), Math.Min(near.Count, at + k + 1) - Math.Max(0, at - k));
            // Every listed value counted on every shard at once (the counts of a shard share a script call).
            var ranks = (await Task.WhenAll(listed.Select(e => e.Value).Distinct().Select(async v =>
                (Value: v, Rank: 1 + await AheadEverywhereAsync(board, v)))))
                .ToDictionary(r => r.Value, r => r.Rank);
            return (IReadOnlyList<BoardEntry>)listed.Select(e => new BoardEntry(e.Participant, ranks[e.Value], e.Value)).ToList();
        }, (IReadOnlyList<BoardEntry>)[]);

    public Task<long> GetSizeAsync(BoardKey board, CancellationToken cancellationToken = default) =>
        Guard(async () => (await Task.WhenAll(shards.Select(s => s.GetSizeAsync(board, cancellationToken)))).Sum(), 0L);

    /// <summary>
    /// By participant: the member's standing among their home shard's own people (one script call),
    /// then, for each board they are on, the members ahead and the board's size on every other
    /// shard (one script call a shard): two steps, however many boards. By province: a lookup and
    /// a size a board, as <see cref="GetMemberAsync"/> and <see cref="GetSizeAsync"/> answer them.
    /// </summary>
    public Task<IReadOnlyList<BoardStanding?>> GetStandingsAsync(IReadOnlyList<BoardKey> boards, long participantId, CancellationToken cancellationToken = default) =>
        Guard<IReadOnlyList<BoardStanding?>>(async () =>
        {
            var standings = new BoardStanding?[boards.Count];
            if (boards.Count == 0) return standings;
            var campaignId = BoardKey.CampaignOf(boards);
            if (byProvince)
            {
                for (var i = 0; i < boards.Count; i++)
                    if (await GetMemberAsync(boards[i], participantId, cancellationToken) is { } entry)
                        standings[i] = new BoardStanding(entry, await GetSizeAsync(boards[i], cancellationToken));
                return standings;
            }
            var home = ShardOf(participantId);
            var own = await Task.WhenAll(shards[home].StandingsAsync(boards, participantId));
            if (shards.Length == 1) return own;
            var on = Enumerable.Range(0, boards.Count).Where(i => own[i] is not null).ToArray();
            if (on.Length == 0) return standings;
            var elsewhere = new List<Task<RedisRankingEngine.Ahead?>[]>(shards.Length - 1);
            for (var s = 0; s < shards.Length; s++)
                if (s != home) elsewhere.Add(shards[s].CountAboveAsync(campaignId, on.Select(i => (shards[s].KeyOf(boards[i]), own[i]!.Entry.Value)).ToArray()));
            await Task.WhenAll(elsewhere.SelectMany(e => e));
            for (var j = 0; j < on.Length; j++)
            {
                var (rank, size) = (own[on[j]]!.Entry.Rank, own[on[j]]!.Size);
                foreach (var shard in elsewhere)
                {
                    // A shard being caught up cannot count whole: the read answers none, as a lookup does.
                    if (shard[j].Result is not { } ahead) return new BoardStanding?[boards.Count];
                    (rank, size) = (rank + ahead.Count, size + ahead.Size);
                }
                standings[on[j]] = new BoardStanding(own[on[j]]!.Entry with { Rank = rank }, size);
            }
            return standings;
        }, new BoardStanding?[boards.Count]);

    public Task RefreshAsync(CancellationToken cancellationToken = default) =>
        Guard(async () => { await cache.RefreshAsync(FetchTop); return 0; }, 0);

    /// <summary>
    /// Rebuilds the shards that missed rounds, else the shards that lost the campaign's keys (a
    /// catch-up after one shard's outage costs that shard's share of the store), else every shard
    /// (an explicit rebuild); the rebuilt shards run in parallel, each on the rounds of its own people.
    /// </summary>
    public Task<RebuildReport> RebuildAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default) =>
        RebuildAsync(campaignId, roundsAfter, catchUp: false, cancellationToken);

    /// <summary>As <see cref="RebuildAsync"/>, each shard catching up as <see cref="RedisRankingEngine.CatchUpAsync"/> does.</summary>
    public Task<RebuildReport> CatchUpAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, CancellationToken cancellationToken = default) =>
        RebuildAsync(campaignId, roundsAfter, catchUp: true, cancellationToken);

    async Task<RebuildReport> RebuildAsync(string campaignId, Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, bool catchUp, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var which = Enumerable.Range(0, shards.Length).Where(s => shards[s].MissedRounds(campaignId)).ToList();
        if (which.Count == 0)
        {
            // A shard restarted empty is marked only if a finish of one of its own people met it
            // away; the finishes of others fail on its count, which marks nothing. Its keys tell.
            var health = await Task.WhenAll(shards.Select(s => s.CheckAsync(campaignId, cancellationToken)));
            // One away cannot be told from one empty yet; rebuilding the others would not help.
            if (health.Any(h => !h.Reachable)) throw new RankingUnavailableException($"A shard of campaign {campaignId} is unreachable.", null);
            which = [.. Enumerable.Range(0, shards.Length).Where(s => !health[s].KeysPresent)];
        }
        if (which.Count == 0) which = [.. Enumerable.Range(0, shards.Length)];
        var reports = await Task.WhenAll(which.Select(s => catchUp
            ? shards[s].CatchUpAsync(campaignId, after => OnShard(roundsAfter(after), s, cancellationToken), cancellationToken)
            : shards[s].RebuildAsync(campaignId, after => OnShard(roundsAfter(after), s, cancellationToken), cancellationToken)));
        cache.Invalidate(campaignId);
        return new RebuildReport(campaignId, reports.Sum(r => r.Rounds), reports.Sum(r => r.Participants), Stopwatch.GetElapsedTime(started),
            Covered: reports.All(r => r.Covered));
    }

    async IAsyncEnumerable<RoundFinished> OnShard(IAsyncEnumerable<RoundFinished> rounds, int shard, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var round in rounds.WithCancellation(cancellationToken))
            if (ShardOf(round) == shard) yield return round;
    }

    /// <summary>The live boards, read across the shards as one, against a recomputation of the whole campaign.</summary>
    public async Task<ReconcileReport> ReconcileAsync(string campaignId, IAsyncEnumerable<RoundFinished> rounds, CancellationToken cancellationToken = default)
    {
        var model = new CampaignBoards(campaignId);
        await InProcessRankingEngine.ReplayAsync(model, rounds, cancellationToken);
        try
        {
            return await Reconciler.CompareAsync(model, new Reconciler.Live(
                async key => (await Task.WhenAll(shards.Select(s => s.SizeAsync(key)))).Sum(),
                async (key, ids) =>
                {
                    if (byProvince)
                    {
                        // A member is on one shard only (a member on two would show in the sizes, summed).
                        var each = await Task.WhenAll(shards.Select(s => s.ValuesAsync(key, ids)));
                        return Enumerable.Range(0, ids.Count).Select(i => each.Select(e => e[i]).FirstOrDefault(v => v is not null)).ToArray();
                    }
                    var values = new long?[ids.Count];
                    foreach (var group in Enumerable.Range(0, ids.Count).GroupBy(i => ShardOf(ids[i])))
                    {
                        var indexes = group.ToList();
                        var found = await shards[group.Key].ValuesAsync(key, indexes.Select(i => ids[i]).ToList());
                        for (var j = 0; j < indexes.Count; j++) values[indexes[j]] = found[j];
                    }
                    return values;
                }),
                cancellationToken);
        }
        catch (Exception e) when (Unreachable(e))
        {
            throw new RankingUnavailableException($"Reconciling campaign {campaignId} failed: a Redis shard is unreachable.", e);
        }
    }

    /// <summary>Members ahead of <paramref name="value"/> on the board over every shard, for a read.</summary>
    async Task<long> AheadEverywhereAsync(BoardKey board, long value)
    {
        var counts = await Task.WhenAll(shards.Select(s => s.CountAboveAsync(board.CampaignId, s.KeyOf(board), value)));
        return counts.Any(c => c is null)
            ? throw new RankingUnavailableException($"A shard of campaign {board.CampaignId} is being caught up.", null)
            : counts.Sum(c => c!.Value.Count);
    }

    /// <summary>A read answers <paramref name="unavailable"/> when a shard is away, or being caught up (its counts would be short).</summary>
    async Task<T> Guard<T>(Func<Task<T>> read, T unavailable)
    {
        try { return await read().WaitAsync(options.ReadTimeout); }
        catch (Exception e) when (Unreachable(e) || e is RankingUnavailableException) { return unavailable; }
    }

    public async ValueTask DisposeAsync()
    {
        refreshTimer.Dispose();
        foreach (var shard in shards) await shard.DisposeAsync();
    }
}
