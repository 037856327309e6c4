namespace Quiz.Ranking;

/// <summary>How a person's rounds in a stage add up to the value they are ranked by.</summary>
public enum AggregationRule
{
    /// <summary>The best single round counts.</summary>
    BestOfAll,
    /// <summary>The best round of each day counts, summed over the days.</summary>
    BestOfDaySummed,
    /// <summary>Every round counts.</summary>
    Sum,
    /// <summary>
    /// The best round of each group (<see cref="RoundFinished.Group"/>, e.g. a scene) counts,
    /// summed over the groups: <see cref="BestOfDaySummed"/> with the day as the group.
    /// </summary>
    BestPerGroupSummed,
}

/// <summary>
/// One finished round, as committed to the store: everything the engine needs, so it keeps no
/// campaign configuration of its own and any node can apply any round.
/// </summary>
/// <param name="RoundId">The store's id, increasing in commit order (&gt; 0). A person's rounds must
/// be recorded in this order; a round id not above the person's last applied one is a duplicate and
/// changes nothing, which is what makes replays and catch-up exact.</param>
/// <param name="ParticipantId">1 .. 2^32−1 (the Redis engine keeps distinct-participant bitmaps by id).</param>
/// <param name="Day">The campaign day of the finish (China Standard Time by default; the caller decides).</param>
/// <param name="RegionPath">Province, city, county codes, root first (1..3 codes). The last is the
/// person's lowest-level unit. A person's units are fixed by registration.</param>
/// <param name="CampaignStart">The origin of the finish-time tie-break (see <see cref="RankScore"/>).</param>
/// <param name="Group">Rule <see cref="AggregationRule.BestPerGroupSummed"/>: the group the round's best
/// counts in (the scene); 1..40 characters without ':', '|', '{' or '}'. Ignored by the other rules.</param>
public sealed record RoundFinished(
    string CampaignId,
    string StageId,
    AggregationRule Rule,
    long RoundId,
    long ParticipantId,
    int Score,
    int DurationMs,
    DateTimeOffset FinishedAt,
    DateOnly Day,
    IReadOnlyList<string> RegionPath,
    string? OrganisationId,
    string? OrganisationType,
    DateTimeOffset CampaignStart,
    string? Group = null)
{
    public const long MaxParticipantId = uint.MaxValue;

    /// <summary>Throws <see cref="ArgumentException"/> when the round breaks the contract above.</summary>
    public long Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(CampaignId);
        ArgumentException.ThrowIfNullOrEmpty(StageId);
        if (CampaignId.Contains('}') || CampaignId.Contains(':') || StageId.Contains(':'))
            throw new ArgumentException("Campaign and stage ids may not contain ':' or '}' (they name Redis keys).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RoundId);
        if (ParticipantId is < 1 or > MaxParticipantId)
            throw new ArgumentOutOfRangeException(nameof(ParticipantId), ParticipantId, $"Participant ids must be 1..{MaxParticipantId}.");
        if (RegionPath is not { Count: >= 1 and <= 3 })
            throw new ArgumentException("RegionPath must hold 1 to 3 non-empty codes without '/' or '|', root first.", nameof(RegionPath));
        for (var i = 0; i < RegionPath.Count; i++) // no LINQ: this runs on every finish
            if (string.IsNullOrEmpty(RegionPath[i]) || RegionPath[i].AsSpan().IndexOfAny('/', '|') >= 0)
                throw new ArgumentException("RegionPath must hold 1 to 3 non-empty codes without '/' or '|', root first.", nameof(RegionPath));
        if (OrganisationId is { } o && (o.Length == 0 || o.Contains('/') || o.Contains('|')) || OrganisationType is { } t && (t.Contains('/') || t.Contains('|')))
            throw new ArgumentException("Organisation id and type may not be empty or contain '/' or '|'.");
        if (Rule == AggregationRule.BestPerGroupSummed && (Group is not { Length: >= 1 and <= 40 } || Group.AsSpan().IndexOfAny(":|{}") >= 0))
            throw new ArgumentException("Rule BestPerGroupSummed needs a Group of 1 to 40 characters without ':', '|', '{' or '}'.", nameof(Group));
        return RankScore.Encode(Score, DurationMs, FinishedAt, CampaignStart);
    }

    /// <summary>Whether the best of each group is summed (the day for <see cref="AggregationRule.BestOfDaySummed"/>, <see cref="Group"/> for <see cref="AggregationRule.BestPerGroupSummed"/>).</summary>
    public bool SumsGroupBests => Rule is AggregationRule.BestOfDaySummed or AggregationRule.BestPerGroupSummed;

    /// <summary>The person's lowest-level unit: the board they see their rank "at home" on.</summary>
    public string UnitCode => RegionPath[^1];
}

/// <summary>A 1-based competition rank on a board (equal values share a rank) and the board's size: "第 N 名 / 共 M 人".</summary>
public readonly record struct Place(long Rank, long Size);

/// <summary>
/// The reply to a finish: the person's place on the national board, their county's (the lowest
/// unit) and their organisation's (null without one), each with the board's size, and their value
/// on the boards. The finish has just written all three boards, so their places cost it warm
/// walks; read after the round instead, they cost each Redis shard more than the finish itself
/// (BENCHMARKS.md, "The places back in the finish"). <paramref name="Pending"/>: the round is in
/// the store but not yet on the boards (Redis is unreachable or a rebuild is running); the places
/// are then null and the boards catch up later.
/// </summary>
public sealed record FinishRanks(Place? National, Place? Unit, Place? Organisation, long Value, bool Pending)
{
    public long? NationalRank => National?.Rank;
    public static readonly FinishRanks PendingRanks = new(null, null, null, 0, true);
    /// <summary>Not pending, yet the person has no value on the boards (a repeated round of someone the boards do not hold).</summary>
    public static readonly FinishRanks Unranked = new(null, null, null, 0, false);
}
