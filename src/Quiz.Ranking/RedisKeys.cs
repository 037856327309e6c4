using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Quiz.Ranking;

/// <summary>
/// The one place Redis keys are named. Every key of a campaign starts with the hash tag
/// <c>{c:&lt;campaign&gt;}</c>, so a campaign lives on one Redis Cluster shard and one script may
/// touch all its keys.
/// <code>
/// {c:X}:hold                 present while a rebuild/catch-up runs: live finishes answer Pending
/// {c:X}:epoch                present while the campaign's keys are; bumped by each rebuild
/// {c:X}:last                 hash participant → last applied round id of the rules that add rounds up
///                            (sum, group bests): a duplicate changes nothing. A best-of-all round
///                            needs no guard (a repeat raises nothing), and its ~3 µs a finish are
///                            spared (BENCHMARKS.md, "A finish without a guard for best-of-all").
/// {c:X}:b:STAGE:n            individual boards (sorted sets, score = RankScore): national,
/// {c:X}:b:STAGE:u:UNIT         lowest-level unit,
/// {c:X}:b:STAGE:o:ORG          organisation,
/// {c:X}:b:STAGE:d:yyyyMMdd     each person's best of that day (rule BestOfDaySummed)
/// {c:X}:b:STAGE:g:GROUP        each person's best in that group, e.g. a scene (rule BestPerGroupSummed)
/// {c:X}:applied              rounds applied (the store's count of results, once caught up)
/// {c:X}:asked                catch-up tickets taken by nodes that missed rounds (a counter)
/// {c:X}:covered              the last ticket a completed rebuild or catch-up had read before reading the store,
/// {c:X}:through                and the highest round id it applied (see RedisRankingEngine.RebuildAsync),
/// {c:X}:through-applied        and the rounds applied to there
/// {c:X}:held                 sorted set of the rounds a hold turned away (score = member = round id):
///                            the rebuild applies those its passes did not read, once, as it releases
/// </code>
/// Units' figures are not here: the store counts them (unit_daily_stats). Keys a campaign had
/// from before (":seen:", ":uc", ":days", ":bases") are unread, and a rebuild deletes them.
/// </summary>
static class RedisKeys
{
    public static string Prefix(string campaignId) => "{c:" + campaignId + "}";
    public static RedisKey Hold(string c) => Prefix(c) + ":hold";
    public static RedisKey Epoch(string c) => Prefix(c) + ":epoch";
    public static RedisKey Last(string c) => Prefix(c) + ":last";
    public static RedisKey Applied(string c) => Prefix(c) + ":applied";
    public static RedisKey Asked(string c) => Prefix(c) + ":asked";
    public static RedisKey Covered(string c) => Prefix(c) + ":covered";
    public static RedisKey Through(string c) => Prefix(c) + ":through";
    public static RedisKey ThroughApplied(string c) => Prefix(c) + ":through-applied";
    public static RedisKey Held(string c) => Prefix(c) + ":held";
    public static RedisKey DayBest(string c, string stage, DateOnly day) => Prefix(c) + ":b:" + stage + ":d:" + Day(day);
    public static RedisKey GroupBest(string c, string stage, string group) => Prefix(c) + ":b:" + stage + ":g:" + group;

    public static RedisKey Board(BoardKey key) => Board(key.CampaignId, key.StageId, key.Scope, key.Code);

    public static RedisKey Board(string c, string stage, BoardScope scope, string? code) => scope switch
    {
        BoardScope.National => Prefix(c) + ":b:" + stage + ":n",
        BoardScope.Unit => Prefix(c) + ":b:" + stage + ":u:" + code,
        BoardScope.Organisation => Prefix(c) + ":b:" + stage + ":o:" + code,
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    };

    /// <summary>A SCAN pattern for every key of a campaign (glob characters in the id escaped).</summary>
    public static string Pattern(string c)
    {
        var escaped = string.Concat(c.Select(ch => ch is '*' or '?' or '[' or ']' or '\\' ? "\\" + ch : ch.ToString()));
        return "{c:" + escaped + "}:*";
    }

    /// <summary>
    /// The keys a finish names, built once per engine rather than concatenated per finish.
    /// </summary>
    public sealed class Cache
    {
        readonly ConcurrentDictionary<(string Campaign, string Stage, BoardScope Scope, string? Code), RedisKey> boards = new();
        readonly ConcurrentDictionary<(string Campaign, string Stage, DateOnly Day), RedisKey> dayBest = new();
        readonly ConcurrentDictionary<(string Campaign, string Stage, string Group), RedisKey> groupBest = new();
        readonly ConcurrentDictionary<string, CampaignKeys> campaigns = new(StringComparer.Ordinal);

        public RedisKey Board(string c, string stage, BoardScope scope, string? code) =>
            boards.GetOrAdd((c, stage, scope, code), static k => RedisKeys.Board(k.Campaign, k.Stage, k.Scope, k.Code));
        public RedisKey DayBest(string c, string stage, DateOnly day) => dayBest.GetOrAdd((c, stage, day), static k => RedisKeys.DayBest(k.Campaign, k.Stage, k.Day));
        public RedisKey GroupBest(string c, string stage, string group) => groupBest.GetOrAdd((c, stage, group), static k => RedisKeys.GroupBest(k.Campaign, k.Stage, k.Group));
        /// <summary>Where a round's group best is kept: by day (rule BestOfDaySummed) or by its group (BestPerGroupSummed).</summary>
        public RedisKey GroupBest(string c, RoundFinished r) =>
            r.Rule == AggregationRule.BestOfDaySummed ? DayBest(c, r.StageId, r.Day) : GroupBest(c, r.StageId, r.Group!);
        public CampaignKeys Campaign(string c) => campaigns.GetOrAdd(c, static c => new CampaignKeys(Hold(c), Epoch(c), Last(c), Applied(c), Held(c)));
    }

    public sealed record CampaignKeys(RedisKey Hold, RedisKey Epoch, RedisKey Last, RedisKey Applied, RedisKey Held);

    public static string Day(DateOnly day) => day.ToString("yyyyMMdd");
}
