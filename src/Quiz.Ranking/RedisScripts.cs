using System.Security.Cryptography;
using System.Text;

namespace Quiz.Ranking;

/// <summary>
/// The Lua scripts of the Redis engine, loaded once per server and called by SHA1 (EVALSHA), so a
/// finish is one round trip. Numbers: Redis Lua numbers are doubles, exact for RankScore's 53
/// bits; they are written back with %.0f because Lua's default formatting keeps only 14 digits.
/// </summary>
sealed class RedisScripts
{
    public sealed record Script(string Text)
    {
        public byte[] Hash { get; } = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
    }

    const string Packing = """
        local S, D = 549755813888, 1048576
        local DMAX, TMAX, SMAX = 524287, 1048575, 16383
        local function clamp(x, hi) if x < 0 then return 0 elseif x > hi then return hi end return x end
        local function split(v)
          local s = math.floor(v / S)
          local r = v - s * S
          local di = math.floor(r / D)
          return s, DMAX - di, TMAX - (r - di * D)
        end
        local function pack(s, d, t) return clamp(s, SMAX) * S + (DMAX - clamp(d, DMAX)) * D + (TMAX - clamp(t, TMAX)) end
        -- a missing reply is false in Redis Lua, not nil
        local function num(x) if x then return tonumber(x) end return nil end
        -- string.format costs ~1 µs a call: values travel as the exact strings Redis and the
        -- client wrote (ZSCORE replies, ARGV) and are formatted only when the script computes one.
        local function fmt(v) return string.format('%.0f', v) end

        """;

    // Apart from the packing, so the small scripts do not define its functions on every call.
    const string Counting = """
        -- members with a greater value: all of them less those at or below it. ZCOUNT over
        -- (v, +inf] walks the skiplist four times (to v, its rank, to the tail, the tail's rank);
        -- over [-inf, v] twice, since the range starts at the head: ~20 % less a count on a 5 M
        -- board (BENCHMARKS.md, issue 18). ZREVRANK costs the same as ZCOUNT and breaks ties.
        -- With the board's size, which the count is made from: a standing ("第 N 名 / 共 M 人") gets it free.
        -- A script that writes nothing passes sizes, a table kept for its call: no size can change
        -- while it runs, so each board's is read once a call, not once a lookup (a batch of ~32
        -- lookups on the national board: one ZCARD instead of 32). The finish passes none: it
        -- counts after its own writes.
        local function aboveAndSize(key, v, sizes)
          local size = sizes and sizes[key]
          if not size then
            size = redis.call('ZCARD', key)
            if sizes then sizes[key] = size end
          end
          return size - redis.call('ZCOUNT', key, '-inf', v), size
        end
        -- competition rank: 1 + members with a greater value
        local function rank(key, v) return (aboveAndSize(key, v)) + 1 end

        """;

    /// <summary>Values a finish reply holds per round.</summary>
    public const int FinishReplyStride = 7;
    /// <summary>Arguments a finish call takes per round.</summary>
    public const int FinishArgStride = 8;

    /// <summary>
    /// Applies a batch of rounds of one campaign, in order: mirrors <see cref="CampaignBoards.Apply"/>
    /// step for step. The hold and epoch are read once a batch.
    /// KEYS: hold, epoch, last (hash participant → last applied round id), the applied-rounds
    /// counter, held (the rounds a hold turned away), then every board of the batch once; rounds
    /// name them by index into KEYS.
    /// ARGV: replay (1 ignores hold), then <see cref="FinishArgStride"/> per round: participant, round id,
    /// rule (b best of all | s sum | g best of each group summed, the group being a day or a scene),
    /// encoded round, and the KEYS indexes of: national board, unit board, organisation board (0
    /// none), the group-best board (0 unless rule g).
    /// Only the rules that add rounds up (s, g) are guarded by the person's last round id: a
    /// best-of-all round applied twice raises nothing, so its HGET and HSET (~3 µs of ~17 at 1 M
    /// members) are spared. Such a round is counted in applied each time it is sent: a repeated
    /// Finish is answered from memory, a rebuild sets the count from the rounds it read
    /// (RedisRankingEngine.RebuildAsync), and only a round ranked by a node that died before its
    /// reply and finished again on another is counted twice (see IRankingEngine.RecordFinishAsync).
    /// Units' participants, rounds and points are not counted here: the store counts them exactly
    /// (unit_daily_stats), and the dashboards read them there.
    /// Returns {-1} when held (the rounds' ids added to held), {-2} when the campaign's keys are
    /// gone (Redis lost its data), else {epoch, then <see cref="FinishReplyStride"/> per round:
    /// value (-1 none), then rank and size on the national, unit and organisation boards (0, 0
    /// without an organisation)}: the places the result page shows (<see cref="FinishRanks"/>).
    /// </summary>
    public static readonly Script Finish = new(Packing + Counting + """

        local state = redis.call('MGET', KEYS[1], KEYS[2])
        if ARGV[1] ~= '1' and state[1] then
          local ids = {}
          for i = 3, #ARGV, 8 do ids[#ids + 1] = ARGV[i]; ids[#ids + 1] = ARGV[i] end
          redis.call('ZADD', KEYS[5], unpack(ids))
          return {-1}
        end
        if not state[2] then return {-2} end
        local out, n, applied = {tonumber(state[2])}, 1, 0
        for i = 2, #ARGV, 8 do
          local pid, id, v = ARGV[i], ARGV[i + 1], ARGV[i + 3]
          local nat, unit = KEYS[tonumber(ARGV[i + 4])], KEYS[tonumber(ARGV[i + 5])]
          local oi = tonumber(ARGV[i + 6])
          local org = false
          if oi > 0 then org = KEYS[oi] end
          -- the person's value as an exact string; false when not on the board
          local new
          local rule = ARGV[i + 2]
          local last = false
          if rule ~= 'b' then last = redis.call('HGET', KEYS[3], pid) end
          if last and tonumber(id) <= tonumber(last) then
            new = redis.call('ZSCORE', nat, pid)
          else
            if rule ~= 'b' then redis.call('HSET', KEYS[3], pid, id) end
            applied = applied + 1
            if rule == 'b' then
              -- GT CH adds or raises in one step and says whether it did
              if redis.call('ZADD', nat, 'GT', 'CH', v, pid) == 1 then
                new = v
                redis.call('ZADD', unit, v, pid)
                if org then redis.call('ZADD', org, v, pid) end
              else
                new = redis.call('ZSCORE', nat, pid)
              end
            else
              new = redis.call('ZSCORE', nat, pid)
              local old = num(new)
              local value = old
              local r = tonumber(v)
              if rule == 's' then
                if old == nil then value = r else
                  local s0, d0 = split(old)
                  local s1, d1, t1 = split(r)
                  value = pack(s0 + s1, d0 + d1, t1)
                end
              else
                -- g: the group's best (a day's or a scene's) is replaced by a better round, and the
                -- total changes by the difference
                local groupKey = KEYS[tonumber(ARGV[i + 7])]
                local groupOld = num(redis.call('ZSCORE', groupKey, pid))
                if groupOld == nil or r > groupOld then
                  redis.call('ZADD', groupKey, v, pid)
                  if old == nil then value = r else
                    local s0, d0 = split(old)
                    local s1, d1, t1 = split(r)
                    local so, dso = 0, 0
                    if groupOld then so, dso = split(groupOld) end
                    value = pack(s0 - so + s1, d0 - dso + d1, t1)
                  end
                end
              end
              if value ~= old then
                new = fmt(value)
                redis.call('ZADD', nat, new, pid)
                redis.call('ZADD', unit, new, pid)
                if org then redis.call('ZADD', org, new, pid) end
              end
            end
          end
          if new then
            -- the three boards were just written: their walks to the person are in the caches
            local a, size = aboveAndSize(nat, new)
            out[n + 1], out[n + 2], out[n + 3] = tonumber(new), a + 1, size
            a, size = aboveAndSize(unit, new)
            out[n + 4], out[n + 5] = a + 1, size
            if org then
              a, size = aboveAndSize(org, new)
              out[n + 6], out[n + 7] = a + 1, size
            else
              out[n + 6], out[n + 7] = 0, 0
            end
          else
            out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6], out[n + 7] = -1, 0, 0, 0, 0, 0, 0
          end
          n = n + 7
        end
        if applied > 0 then redis.call('INCRBY', KEYS[4], applied) end
        return out
        """);

    /// <summary>
    /// Rank lookups of a batch of callers. KEYS: every board of the batch once. ARGV: pairs of
    /// (KEYS index, participant). Returns {rank, value, board size} per pair; rank 0 when not on
    /// the board (the size comes with the count: <c>aboveAndSize</c>).
    /// </summary>
    public static readonly Script Members = new(Counting + """
        local out, n, sizes = {}, 0, {}
        for i = 1, #ARGV, 2 do
          local key = KEYS[tonumber(ARGV[i])]
          local v = redis.call('ZSCORE', key, ARGV[i + 1])
          if v then
            local ahead, size = aboveAndSize(key, v, sizes)
            out[n + 1], out[n + 2], out[n + 3] = ahead + 1, tonumber(v), size
          else
            out[n + 1], out[n + 2], out[n + 3] = 0, 0, 0
          end
          n = n + 3
        end
        return out
        """);

    /// <summary>
    /// Counts of members ahead of a value, for a sharded engine (the other shards' part of an exact
    /// rank). KEYS: hold, epoch, then every board of the batch once. ARGV: pairs of (KEYS index,
    /// value). Returns the count of members with a greater value per pair; {-1} while the shard is
    /// being rebuilt and {-2} when it lost the campaign's keys, as the finish script does: its
    /// counts would be short, and the ranks made of them wrong. Each count comes with the board's
    /// size on the shard (<c>aboveAndSize</c>), so a standing's sizes cost no call.
    /// </summary>
    public static readonly Script Counts = new(Counting + """
        local state = redis.call('MGET', KEYS[1], KEYS[2])
        if state[1] then return {-1} end
        if not state[2] then return {-2} end
        local out, sizes = {}, {}
        for i = 1, #ARGV, 2 do
          out[i], out[i + 1] = aboveAndSize(KEYS[tonumber(ARGV[i])], ARGV[i + 1], sizes)
        end
        return out
        """);

    /// <summary>KEYS: board. ARGV: participant, k. Returns {} or {rank of the first listed, its position, member, score, member, score, ...}.</summary>
    public static readonly Script Around = new(Counting + """
        local i = redis.call('ZREVRANK', KEYS[1], ARGV[1])
        if not i then return {} end
        local k = tonumber(ARGV[2])
        local from = i - k
        if from < 0 then from = 0 end
        local list = redis.call('ZREVRANGE', KEYS[1], from, i + k, 'WITHSCORES')
        local out = {rank(KEYS[1], list[2]), from}
        for j = 1, #list do out[j + 2] = list[j] end
        return out
        """);

    /// <summary>
    /// Ends a rebuild's hold and hands over the rounds it turned away since, in one step: a finish
    /// held after the handover would be lost. KEYS: hold, held. ARGV: the holder, the highest round
    /// id the rebuild's passes read. Returns the held round ids above it (those below were read),
    /// or nil when the hold is no longer the caller's.
    /// </summary>
    public static readonly Script Release = new("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
        local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[2], '+inf')
        redis.call('DEL', KEYS[1], KEYS[2])
        return ids
        """);

    public static readonly IReadOnlyList<Script> All = [Finish, Members, Around, Counts, Release];
}
