using Quiz.Server.Campaigns;

namespace Quiz.Server.Circulars;

/// <summary>The circulars a provincial office runs its month by: 日调度、周点评、半月通报.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(KebabCaseEnumConverter<CircularKind>))]
public enum CircularKind
{
    /// <summary>The daily dispatch (日调度): one campaign day.</summary>
    Daily,
    /// <summary>The weekly review (周点评): the week ending on <see cref="CircularOptions.WeeklyOn"/>.</summary>
    Weekly,
    /// <summary>The half-month circular (半月通报): the 1st–15th, or the 16th to the month's end.</summary>
    HalfMonth,
}

/// <summary>Section "Circulars": when the schedule issues circulars.</summary>
public sealed record CircularOptions
{
    public const string Section = "Circulars";
    /// <summary>Whether this node issues circulars on the schedule (any node may: the store keeps one of each).</summary>
    public bool Schedule { get; init; } = true;
    /// <summary>
    /// The time of day a circular is issued, on the evening its period ends, in the campaign's own
    /// time (its <c>utcOffset</c>, +08:00 by default: China time, Asia/Shanghai, which keeps no
    /// daylight saving). The campaign's clock rather than a zone of its own, so "the evening of
    /// 15 June" is always on the campaign day 15 June that the circular's figures end on.
    /// </summary>
    public TimeOnly IssueAt { get; init; } = new(20, 0);
    /// <summary>The last day of a weekly review's week.</summary>
    public DayOfWeek WeeklyOn { get; init; } = DayOfWeek.Sunday;
    /// <summary>
    /// How late a circular is still issued after its time (the node was down that evening). Older
    /// ones are left to the on-demand endpoint: a campaign loaded long after it ended does not
    /// make a month of documents at start-up.
    /// </summary>
    public TimeSpan CatchUp { get; init; } = TimeSpan.FromDays(3);
    /// <summary>How often the schedule looks for circulars due.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    public void Validate()
    {
        if (!Enum.IsDefined(WeeklyOn)) throw new ArgumentException("Circulars:WeeklyOn must be a day of the week, e.g. Sunday.");
        if (CheckInterval <= TimeSpan.Zero || CheckInterval > TimeSpan.FromHours(1))
            throw new ArgumentException("Circulars:CheckInterval must be more than 0 and at most an hour.");
        // A look lands up to an interval after a circular's time: a shorter catch-up could pass it by.
        if (CatchUp < CheckInterval) throw new ArgumentException("Circulars:CatchUp must be at least Circulars:CheckInterval.");
    }
}

/// <summary>
/// Which circulars of a campaign fall due, and when: pure rules, so tests can check the calendar
/// without a server. Every period lies within the campaign's days (a week or half-month cut by
/// the campaign's first or last day is issued for the days it has), and each is issued at
/// <see cref="CircularOptions.IssueAt"/> on the evening of its last day.
/// </summary>
public static class CircularSchedule
{
    public sealed record Due(CircularKind Kind, DateOnly From, DateOnly To, DateTimeOffset At);

    /// <summary>Every circular of the campaign, in the order they fall due.</summary>
    public static IEnumerable<Due> All(Campaign campaign, CircularOptions options)
    {
        var opens = campaign.Stages.Min(s => s.StartDay);
        var closes = campaign.Stages.Max(s => s.EndDay);
        DateTimeOffset At(DateOnly day) => new(day.ToDateTime(options.IssueAt), campaign.Offset);
        var weekStarts = (DayOfWeek)(((int)options.WeeklyOn + 1) % 7);
        for (var day = opens; day <= closes; day = day.AddDays(1))
        {
            // A day between two stages has no play to report; the week and half-month still end on it.
            if (campaign.StageOn(day) is not null) yield return new Due(CircularKind.Daily, day, day, At(day));
            if (day.DayOfWeek == options.WeeklyOn || day == closes)
            {
                var start = day.AddDays(-(((int)day.DayOfWeek - (int)weekStarts + 7) % 7));
                yield return new Due(CircularKind.Weekly, Later(start, opens), day, At(day));
            }
            if (day.Day == 15 || day.Day == DateTime.DaysInMonth(day.Year, day.Month) || day == closes)
            {
                var start = new DateOnly(day.Year, day.Month, day.Day <= 15 ? 1 : 16);
                yield return new Due(CircularKind.HalfMonth, Later(start, opens), day, At(day));
            }
        }
    }

    /// <summary>The circulars due at <paramref name="now"/>: their time has come, no longer ago than <see cref="CircularOptions.CatchUp"/>.</summary>
    public static IEnumerable<Due> DueAt(Campaign campaign, CircularOptions options, DateTimeOffset now) =>
        All(campaign, options).Where(d => d.At <= now && now - d.At <= options.CatchUp);

    private static DateOnly Later(DateOnly a, DateOnly b) => a > b ? a : b;

    /// <summary>The kind as the store and the API write it.</summary>
    public static string Name(CircularKind kind) => kind switch
    {
        CircularKind.Daily => "daily",
        CircularKind.Weekly => "weekly",
        CircularKind.HalfMonth => "half-month",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static CircularKind Parse(string name) => name switch
    {
        "daily" => CircularKind.Daily,
        "weekly" => CircularKind.Weekly,
        "half-month" => CircularKind.HalfMonth,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a circular kind"),
    };
}
