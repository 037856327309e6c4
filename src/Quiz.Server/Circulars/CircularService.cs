using Dapper;
using Quiz.Server.Campaigns;
using Quiz.Server.Storage;
using Quiz.Server.Surveys;
using Quiz.Server.Units;

namespace Quiz.Server.Circulars;

/// <summary>
/// The figures of a circular: a region (a province or a city) and its children over a period of
/// campaign days, beside the previous period of the same length. Every figure comes from the
/// projection the dashboard's trend and daily report read (unit_daily_stats), divided by the base
/// the dashboard divides by (<see cref="UnitDirectory.BaseOf"/>), so a circular never disagrees
/// with the screen; only the weak topics need the answers themselves.
/// </summary>
public sealed class CircularService(UnitDirectory units, Database database, SurveyStore surveys, TimeProvider clock)
{
    /// <summary>
    /// A unit's standing at the end of the period and of the previous one (cumulative, as the
    /// dashboard showed it then), and its activity in each period.
    /// </summary>
    public sealed record UnitFigures(
        string Code, string Name, long Headcount,
        long Participants, long PreviousParticipants,
        long NewParticipants, long PreviousNewParticipants,
        long Rounds, long PreviousRounds,
        long Points, long PreviousPoints)
    {
        /// <summary>Participants per 10,000 of the base, two decimals, computed as the dashboard computes its <c>perTenThousand</c>.</summary>
        public decimal PerTenThousand => PerTenThousandOf(Participants, Headcount);
        /// <summary>Unrounded, for what the page shows as "&lt;0.01" and for the change since the previous period's end.</summary>
        public double ExactPerTenThousand => Headcount == 0 ? 0 : (double)Participants / Headcount * 10_000;
        public double ExactPreviousPerTenThousand => Headcount == 0 ? 0 : (double)PreviousParticipants / Headcount * 10_000;
        public double ExactChangePerTenThousand => Headcount == 0 ? 0 : (double)(Participants - PreviousParticipants) / Headcount * 10_000;
        public decimal ChangePerTenThousand => Math.Round((decimal)ExactChangePerTenThousand, 2);
        public decimal PreviousPerTenThousand => PerTenThousandOf(PreviousParticipants, Headcount);

        /// <summary>Total points ÷ participants, cumulative like the dashboard's average (never an average of averages).</summary>
        public decimal AveragePoints => AverageOf(Points, Participants);
        public decimal PreviousAveragePoints => AverageOf(PreviousPoints, PreviousParticipants);

        private static decimal PerTenThousandOf(long participants, long headcount) =>
            Math.Round((decimal)(headcount == 0 ? 0 : (double)participants / headcount) * 10_000m, 2);

        private static decimal AverageOf(long points, long participants) =>
            Math.Round((decimal)(participants == 0 ? 0 : (double)points / participants), 2);
    }

    /// <summary>One child in the ranking, with its rank now and at the end of the previous period.</summary>
    public sealed record RankedUnit(int Rank, int PreviousRank, UnitFigures Figures);

    /// <summary>The unit's own figures on one day (the trend chart).</summary>
    public sealed record TrendDay(DateOnly Day, long Participants, long Rounds, bool InPeriod);

    /// <summary>A category of questions and how the unit's people answered it in the period.</summary>
    public sealed class WeakCategory
    {
        public required string Category { get; init; }
        public long Answered { get; init; }
        public long Correct { get; init; }
        public decimal RightRate => Answered == 0 ? 0 : Math.Round(100m * Correct / Answered, 1);
    }

    public sealed record OptionCount(string Text, long Count);

    /// <param name="Texts">For a text question, how many wrote something (what they wrote is for admins, not circulars).</param>
    public sealed record SurveyQuestionCounts(string Text, SurveyQuestionKind Kind, IReadOnlyList<OptionCount> Options, long Texts);

    /// <summary>The campaign's survey among the unit's people (every region below it), replies up to the period's end.</summary>
    public sealed record SurveyCounts(string Title, int Version, long Respondents, IReadOnlyList<SurveyQuestionCounts> Questions);

    public sealed record Circular(
        Campaign Campaign, Region Unit, DateOnly From, DateOnly To, DateOnly PreviousFrom, DateOnly PreviousTo, DateOnly IssuedOn,
        UnitFigures Totals, IReadOnlyList<RankedUnit> Children, IReadOnlyList<TrendDay> Trend, IReadOnlyList<WeakCategory> WeakCategories,
        SurveyCounts? Survey = null)
    {
        /// <summary>The previous period lies wholly before the campaign: nothing to compare with.</summary>
        public bool HasPrevious => PreviousTo >= Campaign.Stages.Min(s => s.StartDay);
    }

    /// <summary>How many of the weakest categories a circular names.</summary>
    public const int WeakCategoryCount = 3;

    /// <summary>The circular of <paramref name="unit"/> (a region with children) for the days from..to.</summary>
    public async Task<Circular> BuildAsync(Campaign campaign, Region unit, DateOnly from, DateOnly to, CancellationToken ct = default)
    {
        var length = to.DayNumber - from.DayNumber + 1;
        var previousFrom = from.AddDays(-length);
        var previousTo = from.AddDays(-1);
        var children = units.Children(unit.Code);
        var codes = children.Select(c => c.Code).Append(unit.Code).ToArray();

        await using var connection = await database.OpenAsync(ct);
        // Every day up to the period's end: the cumulative participants are the sum of each day's
        // first-timers (a person counts once in a campaign, on their first day).
        var days = (await connection.QueryAsync<DayRow>($"""
            SELECT unit_code AS Code, day AS Day, new_participants AS NewParticipants, participants AS Participants, rounds AS Rounds, points AS Points
            FROM unit_daily_stats
            WHERE campaign_id = @campaignId AND unit_kind = 'region' AND unit_code {database.InList("codes")} AND day <= @to
            """, new { campaignId = campaign.Id, codes, to = Day(to) })).ToLookup(r => r.Code);

        var weak = await WeakCategoriesAsync(campaign.Id, unit.Code, from, to, ct);

        UnitFigures Figures(Region region)
        {
            var rows = days[region.Code].ToList();
            long Sum(Func<DayRow, long> figure, DateOnly? first, DateOnly last) =>
                rows.Where(r => (first is null || string.CompareOrdinal(r.Day, Day(first.Value)) >= 0) && string.CompareOrdinal(r.Day, Day(last)) <= 0).Sum(figure);
            return new UnitFigures(region.Code, region.Name, units.BaseOf(region.Code, campaign.HeadcountBase),
                Sum(r => r.NewParticipants, null, to), Sum(r => r.NewParticipants, null, previousTo),
                Sum(r => r.NewParticipants, from, to), Sum(r => r.NewParticipants, previousFrom, previousTo),
                Sum(r => r.Rounds, from, to), Sum(r => r.Rounds, previousFrom, previousTo),
                Sum(r => r.Points, null, to), Sum(r => r.Points, null, previousTo));
        }

        var figures = children.Select(Figures).ToList();
        var previousRanks = Ranked(figures, f => (f.ExactPreviousPerTenThousand, f.PreviousParticipants))
            .Select((f, i) => (f.Code, Rank: i + 1)).ToDictionary(r => r.Code, r => r.Rank);
        var ranked = Ranked(figures, f => (f.ExactPerTenThousand, f.Participants))
            .Select((f, i) => new RankedUnit(i + 1, previousRanks[f.Code], f)).ToList();

        var own = days[unit.Code].ToDictionary(r => r.Day);
        var firstDay = campaign.Stages.Min(s => s.StartDay);
        var trend = new List<TrendDay>();
        for (var day = previousFrom < firstDay ? firstDay : previousFrom; day <= to; day = day.AddDays(1))
        {
            var row = own.GetValueOrDefault(Day(day));
            trend.Add(new TrendDay(day, row?.Participants ?? 0, row?.Rounds ?? 0, day >= from));
        }

        return new Circular(campaign, unit, from, to, previousFrom, previousTo, campaign.DayOf(clock.GetUtcNow()),
            Figures(unit), ranked, trend, weak, campaign.Survey is { } survey ? await SurveyAsync(campaign, survey, unit, to, ct) : null);
    }

    /// <summary>
    /// What the unit's people asked for in the campaign's survey (its current version), replies up
    /// to the end of the period's last day: the circular is where an office reads what to teach next.
    /// </summary>
    private async Task<SurveyCounts> SurveyAsync(Campaign campaign, Survey survey, Region unit, DateOnly to, CancellationToken ct)
    {
        var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), campaign.Offset);
        var (respondents, choices, texts) = await surveys.CountsAsync(campaign.Id, survey.Version,
            new SurveyStore.Members(SurveyStore.MemberKind.Regions, units.Subtree(unit.Code).ToArray()), ct, end);
        var questions = survey.Questions.Select(q => new SurveyQuestionCounts(q.Text, q.Kind,
            q.Options.Select(o => new OptionCount(o.Text, choices.Where(c => c.Question == q.Id && c.Option == o.Id).Sum(c => c.Count))).ToList(),
            texts.Where(t => t.Question == q.Id).Sum(t => t.Count))).ToList();
        return new SurveyCounts(survey.Title, survey.Version, respondents.Sum(r => r.Count), questions);
    }

    /// <summary>
    /// Ranked by the exact participation rate (the figure units are judged by, and what the rate
    /// boards order by: two rates that both show as "&lt;0.01" still differ), then participants,
    /// then code, so equal units keep one order.
    /// </summary>
    private static IEnumerable<UnitFigures> Ranked(IEnumerable<UnitFigures> figures, Func<UnitFigures, (double Rate, long Participants)> key) =>
        figures.OrderByDescending(f => key(f).Rate).ThenByDescending(f => key(f).Participants).ThenBy(f => f.Code, StringComparer.Ordinal);

    /// <summary>
    /// The categories the unit's people got wrong most often in the period: right answers ÷
    /// answered questions (unanswered ones aside, as the question statistics count them), lowest
    /// first. question_stats has no unit or day, so this reads the answers of the unit's
    /// participants (every region below the unit) over the period's days.
    /// </summary>
    private async Task<List<WeakCategory>> WeakCategoriesAsync(string campaignId, string unit, DateOnly from, DateOnly to, CancellationToken ct)
    {
        var rows = await surveys.KnowledgeAsync(campaignId, new SurveyStore.Members(SurveyStore.MemberKind.Regions, units.Subtree(unit).ToArray()), ct, from, to);
        return rows.Where(r => r.Answered > 0)
            .OrderBy(r => (double)r.Correct / r.Answered).ThenByDescending(r => r.Answered).ThenBy(r => r.Category, StringComparer.Ordinal)
            .Take(WeakCategoryCount).Select(r => new WeakCategory { Category = r.Category, Answered = r.Answered, Correct = r.Correct }).ToList();
    }


    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd");

    /// <summary>A class, not a positional record: SQLite types columns loosely, which only property mapping tolerates.</summary>
    private sealed class DayRow
    {
        public required string Code { get; init; }
        public required string Day { get; init; }
        public long NewParticipants { get; init; }
        public long Participants { get; init; }
        public long Rounds { get; init; }
        public long Points { get; init; }
    }

    /// <summary>What the bank's category codes are called in a circular; an unknown code is shown as it is.</summary>
    public static readonly IReadOnlyDictionary<string, string> CategoryNames = new Dictionary<string, string>
    {
        ["law"] = "法律法规", ["features"] = "非法集资特征", ["losses"] = "参与损失自担", ["pension"] = "养老诈骗",
        ["free-trips"] = "免费旅游与讲座", ["protection"] = "防范与举报", ["rebate"] = "消费返利", ["offshore"] = "境外投资",
        ["online-lending"] = "网络借贷", ["private-fund"] = "私募基金", ["equity-crowdfunding"] = "股权众筹",
        ["virtual-currency"] = "虚拟货币", ["rural"] = "农村金融",
    };

    public static string CategoryName(string code) => CategoryNames.GetValueOrDefault(code, code);
}
