using Dapper;
using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Rankings;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Dashboard;

/// <summary>
/// The figures a unit's staff watch, all from the store's projection (unit_daily_stats): live
/// (cumulative and today, through <see cref="UnitStandings"/>' cache of about a second) and the
/// daily history.
/// </summary>
public sealed class DashboardService(RankingService rankings, UnitStandings standings, UnitDirectory units, CampaignCatalog campaigns, Database database, TimeProvider clock)
{
    public sealed record ChildRow(
        string Code, string Name, string Level, long Participants, long Headcount, double ParticipationRate, long Rounds, long Points,
        double AveragePoints, long SiblingRank, long TodayParticipants, long TodayRounds, long TodayPoints, bool HasChildren)
    {
        /// <summary>Participants per 10,000 of the headcount base, to two decimals: what tables and exports show (a share of a province's adults is a few millionths).</summary>
        public decimal PerTenThousand => Math.Round((decimal)ParticipationRate * 10_000m, 2);
    }

    public sealed record UnitsView(ChildRow? Unit, IReadOnlyList<ChildRow> Children, DateOnly Today, DateTimeOffset UpdatedAt);

    /// <summary>A unit (null: the country, whose row sums the provinces) with its children, cumulative and today.</summary>
    public async Task<UnitsView> UnitsAsync(Campaign campaign, string? code, CancellationToken ct = default)
    {
        var today = campaign.DayOf(clock.GetUtcNow());
        if (TypeOf(code) is { } type) return await OrganisationsAsync(campaign, type, today, ct);
        ChildRow? unit = null;
        if (code is not null && rankings.LevelOf(code) is { } level)
            unit = Merge(campaign, code, level, await Standing(campaign.Id, level, code, null, ct), await Standing(campaign.Id, level, code, today, ct));

        var children = new List<ChildRow>();
        var (childLevel, childCodes) = ChildrenOf(code);
        if (childLevel is { } cl)
        {
            var all = await Board(campaign.Id, cl, null, code, ct);
            var day = await Board(campaign.Id, cl, today, code, ct);
            children.AddRange(childCodes.Select(c => Merge(campaign, c, cl, all.GetValueOrDefault(c), day.GetValueOrDefault(c))));
        }
        if (code is null) unit = National(children);
        return new UnitsView(unit, children.OrderByDescending(c => c.Participants).ThenBy(c => c.Code, StringComparer.Ordinal).ToList(), today, clock.GetUtcNow());
    }

    /// <summary>The country as one row: every participant lives in exactly one province, so the provinces' figures add up.</summary>
    private static ChildRow National(List<ChildRow> provinces) => Sum("", "全国", "country", provinces);

    private static ChildRow Sum(string code, string name, string level, List<ChildRow> parts)
    {
        long participants = parts.Sum(p => p.Participants), headcount = parts.Sum(p => p.Headcount), points = parts.Sum(p => p.Points);
        return new ChildRow(code, name, level, participants, headcount, headcount == 0 ? 0 : (double)participants / headcount,
            parts.Sum(p => p.Rounds), points, participants == 0 ? 0 : (double)points / participants, 0,
            parts.Sum(p => p.TodayParticipants), parts.Sum(p => p.TodayRounds), parts.Sum(p => p.TodayPoints), parts.Count > 0);
    }

    // ---- organisations: by type, then each organisation -------------------------------------

    /// <summary>
    /// The dashboard's code for the organisations of a type ("type:bank"), and "type:" for all of
    /// them by type: the page drills down through them as through regions (admins only; UnitScope
    /// knows no such unit for anyone else).
    /// </summary>
    public const string TypePrefix = "type:";

    public static string? TypeOf(string? code) => code?.StartsWith(TypePrefix, StringComparison.Ordinal) == true ? code[TypePrefix.Length..] : null;

    /// <summary>What the organisation types are called on the dashboard and in its files.</summary>
    public static readonly IReadOnlyDictionary<string, string> TypeNames = new Dictionary<string, string>
    {
        ["bank"] = "银行", ["insurer"] = "保险机构", ["university"] = "高校", ["government"] = "政府机关", ["enterprise"] = "企业",
    };

    private static string TypeName(string type) => TypeNames.GetValueOrDefault(type, type);

    private async Task<UnitsView> OrganisationsAsync(Campaign campaign, string type, DateOnly today, CancellationToken ct)
    {
        List<ChildRow> children;
        ChildRow unit;
        if (type.Length == 0)
        {
            var all = await Board(campaign.Id, UnitLevel.OrganisationType, null, null, ct);
            var day = await Board(campaign.Id, UnitLevel.OrganisationType, today, null, ct);
            children = units.Organisations.GroupBy(o => o.Type).Select(g => Row(TypePrefix + g.Key, TypeName(g.Key), "organisation-type",
                all.GetValueOrDefault(g.Key), day.GetValueOrDefault(g.Key), g.Sum(o => o.HeadcountBase), hasChildren: true)).ToList();
            unit = Sum(TypePrefix, "机构", "organisations", children);
        }
        else
        {
            var all = await Board(campaign.Id, UnitLevel.Organisation, null, type, ct);
            var day = await Board(campaign.Id, UnitLevel.Organisation, today, type, ct);
            children = units.Organisations.Where(o => o.Type == type).Select(o => Row(o.Code, o.Name, "organisation",
                all.GetValueOrDefault(o.Code), day.GetValueOrDefault(o.Code), o.HeadcountBase, hasChildren: false)).ToList();
            unit = Row(TypePrefix + type, TypeName(type), "organisation-type",
                await Standing(campaign.Id, UnitLevel.OrganisationType, type, null, ct), await Standing(campaign.Id, UnitLevel.OrganisationType, type, today, ct),
                children.Sum(c => c.Headcount), hasChildren: children.Count > 0);
        }
        return new UnitsView(unit, children.OrderByDescending(c => c.Participants).ThenBy(c => c.Code, StringComparer.Ordinal).ToList(), today, clock.GetUtcNow());
    }

    /// <param name="headcount">The base when the board has no standing for the unit yet.</param>
    private static ChildRow Row(string code, string name, string level, UnitStanding? all, UnitStanding? today, long headcount, bool hasChildren) =>
        new(code, name, level, all?.Participants ?? 0, all?.Headcount ?? headcount, all?.ParticipationRate ?? 0, all?.Rounds ?? 0, all?.Points ?? 0,
            all?.AveragePoints ?? 0, all?.SiblingRank ?? 0, today?.Participants ?? 0, today?.Rounds ?? 0, today?.Points ?? 0, hasChildren);

    private (UnitLevel? Level, IReadOnlyList<string> Codes) ChildrenOf(string? code)
    {
        if (code is null) return (UnitLevel.Province, units.Children(null).Select(r => r.Code).ToList());
        if (units.Region(code) is { Depth: < 3 } region)
            return ((UnitLevel)region.Depth, units.Children(code).Select(r => r.Code).ToList());
        return (null, []);
    }

    private async Task<Dictionary<string, UnitStanding>> Board(string campaignId, UnitLevel level, DateOnly? day, string? parent, CancellationToken ct) =>
        (await standings.GetBoardAsync(new UnitBoardKey(campaignId, level, UnitMetric.Participants, day, parent), 1000, ct))
        .ToDictionary(s => s.Code);

    private Task<UnitStanding?> Standing(string campaignId, UnitLevel level, string code, DateOnly? day, CancellationToken ct) =>
        standings.GetUnitAsync(new UnitBoardKey(campaignId, level, UnitMetric.Participants, day), code, ct);

    private ChildRow Merge(Campaign campaign, string code, UnitLevel level, UnitStanding? all, UnitStanding? today)
    {
        var name = units.Region(code)?.Name ?? units.Organisation(code)?.Name ?? code;
        return Row(code, name, RankingService.LevelName(level), all, today, units.BaseOf(code, campaign.HeadcountBase),
            // Only what the page can open: a province or city with regions below it.
            hasChildren: units.Region(code) is { Depth: < 3 } && units.Children(code).Count > 0);
    }

    // ---- history from the store -------------------------------------------------------------

    /// <summary>A class, not a positional record: SQLite types an empty aggregate's columns as blobs, which only property mapping tolerates.</summary>
    public sealed class DayStats
    {
        public required string Day { get; init; }
        public long NewParticipants { get; init; }
        public long Participants { get; init; }
        public long Rounds { get; init; }
        public long Points { get; init; }
    }

    /// <summary>Per day: a unit's own row, or for the country the sum of the provinces.</summary>
    public async Task<List<DayStats>> TrendAsync(string campaignId, string? code, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var (kind, codes) = Members(code);
        // CAST: PostgreSQL sums bigints into numeric.
        return (await connection.QueryAsync<DayStats>($"""
            SELECT day, CAST(SUM(new_participants) AS BIGINT) AS NewParticipants, CAST(SUM(participants) AS BIGINT) AS Participants,
                   CAST(SUM(rounds) AS BIGINT) AS Rounds, CAST(SUM(points) AS BIGINT) AS Points
            FROM unit_daily_stats WHERE campaign_id = @campaignId AND unit_kind = @kind AND unit_code {database.InList("codes")}
            GROUP BY day ORDER BY day
            """, new { campaignId, kind, codes })).ToList();
    }

    private (string Kind, string[] Codes) Members(string? code) =>
        code is null ? ("region", units.Children(null).Select(r => r.Code).ToArray())
        : TypeOf(code) is { } type ? ("organisation", OrganisationsOf(type))
        : units.Organisation(code) is not null ? ("organisation", [code])
        : ("region", [code]);

    private string[] OrganisationsOf(string type) =>
        units.Organisations.Where(o => type.Length == 0 || o.Type == type).Select(o => o.Code).ToArray();

    public sealed record ReportRow(string Code, string Name, long Headcount, long NewParticipants, long Participants, double ParticipationRate, long Rounds, long Points);

    public sealed record DailyReport(string? Unit, string UnitName, DateOnly Day, ReportRow Totals, IReadOnlyList<ReportRow> Children, IReadOnlyList<ReportRow> TopMovers);

    /// <summary>One day's figures for a unit and its children, from the store: what a circular quotes.</summary>
    public async Task<DailyReport> ReportAsync(string campaignId, string? code, DateOnly day, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var type = TypeOf(code);
        var childCodes = code is null ? units.Children(null).Select(r => r.Code).ToArray()
            : type is not null ? OrganisationsOf(type) // a type's report lists its organisations
            : units.Region(code) is not null ? units.Children(code).Select(r => r.Code).ToArray() : [];
        var (kind, own) = Members(code);
        var baseKind = campaigns.Get(campaignId)?.HeadcountBase ?? HeadcountBase.Residents;
        var rows = (await connection.QueryAsync<(string Code, long New, long Participants, long Rounds, long Points)>($"""
            SELECT unit_code, new_participants, participants, rounds, points FROM unit_daily_stats
            WHERE campaign_id = @campaignId AND day = @day AND unit_kind = @kind AND unit_code {database.InList("codes")}
            """, new { campaignId, day = day.ToString("yyyy-MM-dd"), kind, codes = own.Concat(childCodes).Distinct().ToArray() }))
            .ToDictionary(r => r.Code);

        ReportRow Row(string c)
        {
            var headcount = units.BaseOf(c, baseKind);
            var r = rows.GetValueOrDefault(c);
            return new ReportRow(c, units.Region(c)?.Name ?? units.Organisation(c)?.Name ?? c, headcount, r.New, r.Participants,
                headcount == 0 ? 0 : (double)r.Participants / headcount, r.Rounds, r.Points);
        }

        var children = childCodes.Select(Row).OrderByDescending(r => r.Participants).ThenBy(r => r.Code, StringComparer.Ordinal).ToList();
        var totals = code is null || type is not null
            ? new ReportRow(code ?? "", code is null ? "全国" : type!.Length == 0 ? "机构" : TypeName(type), children.Sum(c => c.Headcount), children.Sum(c => c.NewParticipants), children.Sum(c => c.Participants),
                children.Sum(c => c.Headcount) == 0 ? 0 : (double)children.Sum(c => c.Participants) / children.Sum(c => c.Headcount),
                children.Sum(c => c.Rounds), children.Sum(c => c.Points))
            : Row(code);
        return new DailyReport(code, totals.Name, day, totals, children,
            children.Where(c => c.NewParticipants > 0).OrderByDescending(c => c.NewParticipants).Take(5).ToList());
    }
}
