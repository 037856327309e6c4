namespace Quiz.Ranking;

/// <summary>
/// A person's standing on an individual board, packed into one integer so one sorted-set score
/// orders it: score (desc), then duration (asc), then finish time (asc). Redis scores are doubles,
/// exact only below 2^53, so the whole layout fits in 53 bits:
/// <code>
///  bit 52 ........ 39 | 38 ............... 20 | 19 ................. 0
///  score, 14 bits     | ~duration, 19 bits    | ~finish time, 20 bits
///  0..16,383 points   | 10 ms units:          | 2 s units since the campaign's start:
///                     | 0..5,242.87 s (87 min)| 0..2,097,150 s (24.2 days)
/// </code>
/// Duration and time are stored inverted (max − x), so a larger integer is always the better
/// standing and boards sort descending everywhere.
/// Limits: a round's score above <see cref="MaxScore"/>, a negative duration, or a finish before
/// the campaign's start or more than <see cref="MaxCampaignLength"/> after it throws: they are
/// configuration errors the campaign editor must reject. Summed rules saturate instead: a total
/// score above 16,383 or a total duration above 87 min is clamped, since a sum growing with play
/// must never make a finish fail (both engines clamp the same way, so they agree).
/// For summed rules the duration is the sum of the counted rounds' durations and the time is the
/// finish of the round that last changed the total (whoever reached a total first ranks first).
/// </summary>
public static class RankScore
{
    public const int ScoreBits = 14, DurationBits = 19, TimeBits = 20;
    public const int MaxScore = (1 << ScoreBits) - 1;
    public const int MaxDurationUnits = (1 << DurationBits) - 1;
    public const int MaxTimeUnits = (1 << TimeBits) - 1;
    public const int DurationUnitMs = 10;
    public const int TimeUnitSeconds = 2;
    public static readonly TimeSpan MaxCampaignLength = TimeSpan.FromSeconds((long)MaxTimeUnits * TimeUnitSeconds);

    const long ScoreShift = 1L << (DurationBits + TimeBits);
    const long DurationShift = 1L << TimeBits;
    public const long MaxValue = (1L << (ScoreBits + DurationBits + TimeBits)) - 1;

    static RankScore()
    {
        // The layout must never outgrow a double's exact integers.
        if (MaxValue >= 1L << 53) throw new InvalidOperationException("RankScore layout exceeds 53 bits.");
    }

    /// <summary>Encodes one round. Throws on values outside the documented limits.</summary>
    public static long Encode(int score, int durationMs, DateTimeOffset finishedAt, DateTimeOffset campaignStart)
    {
        if (score is < 0 or > MaxScore)
            throw new ArgumentOutOfRangeException(nameof(score), score, $"A round's score must be 0..{MaxScore}.");
        ArgumentOutOfRangeException.ThrowIfNegative(durationMs);
        var elapsed = finishedAt - campaignStart;
        if (elapsed < TimeSpan.Zero || elapsed > MaxCampaignLength)
            throw new ArgumentOutOfRangeException(nameof(finishedAt), finishedAt,
                $"A finish must lie within {MaxCampaignLength.TotalDays:F1} days after the campaign's start ({campaignStart:O}).");
        return Pack(score, durationMs / DurationUnitMs, (int)(elapsed.Ticks / TimeSpan.TicksPerSecond / TimeUnitSeconds));
    }

    /// <summary>Packs raw parts, clamping score and duration (the saturation summed rules need).</summary>
    public static long Pack(long score, long durationUnits, long timeUnits)
    {
        score = Math.Clamp(score, 0, MaxScore);
        durationUnits = Math.Clamp(durationUnits, 0, MaxDurationUnits);
        timeUnits = Math.Clamp(timeUnits, 0, MaxTimeUnits);
        return score * ScoreShift + (MaxDurationUnits - durationUnits) * DurationShift + (MaxTimeUnits - timeUnits);
    }

    public static RankParts Decode(long value)
    {
        if (value is < 0 or > MaxValue) throw new ArgumentOutOfRangeException(nameof(value), value, "Not a RankScore.");
        var score = value / ScoreShift;
        var rest = value - score * ScoreShift;
        var durationInv = rest / DurationShift;
        var timeInv = rest - durationInv * DurationShift;
        return new RankParts((int)score, (int)(MaxDurationUnits - durationInv), (int)(MaxTimeUnits - timeInv));
    }

    /// <summary>The value after adding one round to a summed total (rule Sum).</summary>
    public static long AddRound(long? total, long round)
    {
        if (total is not { } t) return round;
        var (a, r) = (Decode(t), Decode(round));
        return Pack((long)a.Score + r.Score, (long)a.DurationUnits + r.DurationUnits, r.TimeUnits);
    }

    /// <summary>
    /// The value after a group's best (a day's, a scene's) improves from <paramref name="oldBest"/>
    /// to <paramref name="newBest"/> (rules BestOfDaySummed, BestPerGroupSummed).
    /// </summary>
    public static long ReplaceGroupBest(long? total, long? oldBest, long newBest)
    {
        if (total is not { } t) return newBest;
        var (a, n) = (Decode(t), Decode(newBest));
        var o = oldBest is { } ob ? Decode(ob) : default;
        return Pack((long)a.Score - o.Score + n.Score, (long)a.DurationUnits - o.DurationUnits + n.DurationUnits, n.TimeUnits);
    }
}

/// <summary>A decoded <see cref="RankScore"/>: points, duration in 10 ms units, finish in 2 s units since the campaign's start.</summary>
public readonly record struct RankParts(int Score, int DurationUnits, int TimeUnits)
{
    public int DurationMs => DurationUnits * RankScore.DurationUnitMs;
}
