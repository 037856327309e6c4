using System.Runtime.InteropServices;

namespace Quiz.Ranking;

/// <summary>
/// Every board of one campaign in memory: the in-process engine's state, and the recomputation
/// a reconcile compares the live boards with. The stage rules are applied here exactly as the
/// Redis script applies them (see RedisScripts.Finish), so both engines agree to the bit.
/// Not thread-safe: the in-process engine holds <see cref="Gate"/>.
/// </summary>
public sealed class CampaignBoards(string campaignId)
{
    public object Gate { get; } = new();
    public string CampaignId { get; } = campaignId;
    /// <summary>While a rebuild runs, live finishes answer Pending (their rounds are replayed later).</summary>
    public bool Holding { get; set; }

    public sealed class Stage
    {
        public readonly SortedBoard National = new();
        public readonly Dictionary<string, SortedBoard> Units = new(StringComparer.Ordinal);
        public readonly Dictionary<string, SortedBoard> Organisations = new(StringComparer.Ordinal);
        public readonly Dictionary<long, long> Values = new();
        /// <summary>
        /// Rules that sum group bests: each person's best of each group, keyed by the day (rule
        /// BestOfDaySummed) or by the round's group with no day (BestPerGroupSummed).
        /// </summary>
        public readonly Dictionary<(long, DateOnly, string?), long> GroupBest = new();
    }

    /// <summary>Per person and campaign: the last applied round (a round not above it is a duplicate and changes nothing).</summary>
    readonly Dictionary<long, long> people = new();
    public Dictionary<string, Stage> Stages { get; } = new(StringComparer.Ordinal);
    public long Participants => people.Count;
    public bool Knows(long participantId) => people.ContainsKey(participantId);
    /// <summary>Rounds applied, duplicates not counted: what the Redis engine's "applied" counter holds.</summary>
    public long AppliedRounds { get; private set; }

    /// <summary>Each person's last applied round.</summary>
    public IEnumerable<(long ParticipantId, long LastRoundId)> People()
    {
        foreach (var (id, last) in people) yield return (id, last);
    }

    /// <summary>Applies a round to the boards and the person's last round; a duplicate (or a live round while held) changes nothing.</summary>
    public FinishRanks Apply(RoundFinished round, long encoded, bool replay)
    {
        if (Holding && !replay) return FinishRanks.PendingRanks;
        var stage = StageOf(round.StageId);
        ref var last = ref CollectionsMarshal.GetValueRefOrAddDefault(people, round.ParticipantId, out _);
        if (round.RoundId <= last) return RanksOf(stage, round, stage.Values.TryGetValue(round.ParticipantId, out var v) ? v : null);

        last = round.RoundId;
        AppliedRounds++;
        long? old = stage.Values.TryGetValue(round.ParticipantId, out var o) ? o : null;
        var value = round.Rule switch
        {
            AggregationRule.BestOfAll => Math.Max(old ?? -1, encoded),
            AggregationRule.Sum => RankScore.AddRound(old, encoded),
            AggregationRule.BestOfDaySummed or AggregationRule.BestPerGroupSummed => ImproveGroup(stage, round, encoded, old),
            _ => throw new ArgumentOutOfRangeException(nameof(round), round.Rule, "Unknown rule."),
        };
        if (value != old)
        {
            stage.Values[round.ParticipantId] = value;
            stage.National.Set(round.ParticipantId, old, value);
            BoardOf(stage.Units, round.UnitCode).Set(round.ParticipantId, old, value);
            if (round.OrganisationId is { } org) BoardOf(stage.Organisations, org).Set(round.ParticipantId, old, value);
        }
        return RanksOf(stage, round, value);
    }

    /// <summary>A round better than its group's best (a higher score, or the same in a shorter time) replaces that group's part of the total.</summary>
    static long ImproveGroup(Stage stage, RoundFinished round, long encoded, long? total)
    {
        var key = round.Rule == AggregationRule.BestOfDaySummed ? (round.ParticipantId, round.Day, null) : (round.ParticipantId, default(DateOnly), round.Group);
        ref var best = ref CollectionsMarshal.GetValueRefOrAddDefault(stage.GroupBest, key, out var had);
        if (had && encoded <= best) return total!.Value;
        var value = RankScore.ReplaceGroupBest(total, had ? best : null, encoded);
        best = encoded;
        return value;
    }

    static FinishRanks RanksOf(Stage stage, RoundFinished round, long? value)
    {
        if (value is not { } v) return FinishRanks.Unranked;
        return new FinishRanks(PlaceOn(stage.National, v), PlaceOn(stage.Units.GetValueOrDefault(round.UnitCode), v),
            round.OrganisationId is { } org ? PlaceOn(stage.Organisations.GetValueOrDefault(org), v) : null, v, false);
    }

    static Place? PlaceOn(SortedBoard? board, long value) => board is null ? null : new Place(board.RankOf(value), board.Count);

    public Stage StageOf(string stageId)
    {
        ref var stage = ref CollectionsMarshal.GetValueRefOrAddDefault(Stages, stageId, out _);
        return stage ??= new Stage();
    }

    public SortedBoard? Find(BoardKey key)
    {
        if (!Stages.TryGetValue(key.StageId, out var stage)) return null;
        return key.Scope switch
        {
            BoardScope.National => stage.National,
            BoardScope.Unit => stage.Units.GetValueOrDefault(key.Code ?? ""),
            BoardScope.Organisation => stage.Organisations.GetValueOrDefault(key.Code ?? ""),
            _ => null,
        };
    }

    public IEnumerable<(BoardKey Key, SortedBoard Board)> AllBoards()
    {
        foreach (var (id, stage) in Stages)
        {
            yield return (BoardKey.National(CampaignId, id), stage.National);
            foreach (var (code, b) in stage.Units) yield return (BoardKey.Unit(CampaignId, id, code), b);
            foreach (var (code, b) in stage.Organisations) yield return (BoardKey.Organisation(CampaignId, id, code), b);
        }
    }

    static SortedBoard BoardOf(Dictionary<string, SortedBoard> boards, string code)
    {
        ref var board = ref CollectionsMarshal.GetValueRefOrAddDefault(boards, code, out _);
        return board ??= new SortedBoard();
    }
}
