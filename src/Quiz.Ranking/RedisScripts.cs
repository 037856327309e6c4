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
        local function fmt(v) return string.format('%.0f', v) end
        local function rank(key, v) return redis.call('ZCOUNT', key, '(' .. fmt(v), '+inf') + 1 end
        """;

    /// <summary>
    /// Applies one round: mirrors <see cref="CampaignBoards.Apply"/> step for step.
    /// KEYS: hold, epoch, last, seen, seen-day, national, unit, organisation, day-best.
    /// ARGV: participant, round id, rule (b|d|s), encoded round, replay (1 ignores hold), has organisation (1|0).
    /// Returns {-1} when held, {-2} when the campaign's keys are gone (Redis lost its data), else {status (1 applied, 0 duplicate), epoch, first ever, first today,
    /// value (-1 none), national rank, unit rank, organisation rank (0 none)}.
    /// </summary>
    public static readonly Script Finish = new(Packing + """

        local pid = ARGV[1]
        if ARGV[5] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
        local epoch = redis.call('GET', KEYS[2])
        if not epoch then return {-2} end
        epoch = tonumber(epoch)
        local old = num(redis.call('ZSCORE', KEYS[6], pid))
        local new = old
        local status, first, firstDay = 0, 0, 0
        if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[3], pid) or '0') then
          status = 1
          redis.call('HSET', KEYS[3], pid, ARGV[2])
          first = 1 - redis.call('SETBIT', KEYS[4], pid, 1)
          firstDay = 1 - redis.call('SETBIT', KEYS[5], pid, 1)
          local v = tonumber(ARGV[4])
          local rule = ARGV[3]
          if rule == 'b' then
            if old == nil or v > old then new = v end
          elseif rule == 's' then
            if old == nil then new = v else
              local s0, d0 = split(old)
              local s1, d1, t1 = split(v)
              new = pack(s0 + s1, d0 + d1, t1)
            end
          else
            local dayOld = num(redis.call('ZSCORE', KEYS[9], pid))
            if dayOld == nil or v > dayOld then
              redis.call('ZADD', KEYS[9], fmt(v), pid)
              if old == nil then new = v else
                local s0, d0 = split(old)
                local s1, d1, t1 = split(v)
                local so, dso = 0, 0
                if dayOld then so, dso = split(dayOld) end
                new = pack(s0 - so + s1, d0 - dso + d1, t1)
              end
            end
          end
          if new ~= old then
            local f = fmt(new)
            redis.call('ZADD', KEYS[6], f, pid)
            redis.call('ZADD', KEYS[7], f, pid)
            if ARGV[6] == '1' then redis.call('ZADD', KEYS[8], f, pid) end
          end
        end
        if new == nil then return {status, epoch, first, firstDay, -1, 0, 0, 0} end
        local orgRank = 0
        if ARGV[6] == '1' then orgRank = rank(KEYS[8], new) end
        return {status, epoch, first, firstDay, new, rank(KEYS[6], new), rank(KEYS[7], new), orgRank}
        """);

    /// <summary>KEYS: board. ARGV: participant. Returns {} or {rank, value as string}.</summary>
    public static readonly Script Member = new("""
        local v = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not v then return {} end
        return {redis.call('ZCOUNT', KEYS[1], '(' .. v, '+inf') + 1, v}
        """);

    /// <summary>KEYS: board. ARGV: participant, k. Returns {} or {rank of the first listed, its position, member, score, member, score, ...}.</summary>
    public static readonly Script Around = new("""
        local i = redis.call('ZREVRANK', KEYS[1], ARGV[1])
        if not i then return {} end
        local k = tonumber(ARGV[2])
        local from = i - k
        if from < 0 then from = 0 end
        local list = redis.call('ZREVRANGE', KEYS[1], from, i + k, 'WITHSCORES')
        local out = {redis.call('ZCOUNT', KEYS[1], '(' .. list[2], '+inf') + 1, from}
        for j = 1, #list do out[j + 2] = list[j] end
        return out
        """);

    /// <summary>
    /// Adds unit-counter deltas unless a rebuild has started since they were counted.
    /// KEYS: epoch, counters hash, days set. ARGV: epoch, day ('' for the whole campaign), field, delta, field, delta, ...
    /// </summary>
    public static readonly Script AddCounters = new("""
        if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return 0 end
        for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
        if ARGV[2] ~= '' then redis.call('SADD', KEYS[3], ARGV[2]) end
        return 1
        """);

    public static readonly IReadOnlyList<Script> All = [Finish, Member, Around, AddCounters];
}
