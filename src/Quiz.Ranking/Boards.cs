namespace Quiz.Ranking;

public enum BoardScope { National, Unit, Organisation }

/// <summary>An individual board: persons ranked by their <see cref="RankScore"/> value within one campaign stage.</summary>
/// <param name="Code">The unit code (lowest-level unit) or organisation id; null for the national board.</param>
public sealed record BoardKey(string CampaignId, string StageId, BoardScope Scope, string? Code = null)
{
    public static BoardKey National(string campaignId, string stageId) => new(campaignId, stageId, BoardScope.National);
    public static BoardKey Unit(string campaignId, string stageId, string unitCode) => new(campaignId, stageId, BoardScope.Unit, unitCode);
    public static BoardKey Organisation(string campaignId, string stageId, string organisationId) => new(campaignId, stageId, BoardScope.Organisation, organisationId);

    public override string ToString() => Code is null ? $"{CampaignId}/{StageId}/{Scope}" : $"{CampaignId}/{StageId}/{Scope}/{Code}";

    /// <summary>The boards a person is ranked on in a stage: the country's, their county's (lowest unit) and their organisation's if they have one, in that order.</summary>
    public static List<BoardKey> OfPerson(string campaignId, string stageId, string unitCode, string? organisationId)
    {
        List<BoardKey> boards = [National(campaignId, stageId), Unit(campaignId, stageId, unitCode)];
        if (organisationId is not null) boards.Add(Organisation(campaignId, stageId, organisationId));
        return boards;
    }

    /// <summary>The one campaign of <paramref name="boards"/> (at least one); boards of two are refused.</summary>
    public static string CampaignOf(IReadOnlyList<BoardKey> boards)
    {
        var campaignId = boards[0].CampaignId;
        for (var i = 1; i < boards.Count; i++)
            if (boards[i].CampaignId != campaignId) throw new ArgumentException("The boards are of one campaign.", nameof(boards));
        return campaignId;
    }
}

/// <param name="Rank">1-based competition rank: 1 + the number of members with a greater value.</param>
public sealed record BoardEntry(long ParticipantId, long Rank, long Value)
{
    public RankParts Parts => RankScore.Decode(Value);
}

/// <summary>A member's place on a board with the board's size ("第 N 名 / 共 M 人"): see <see cref="IRankingEngine.GetStandingsAsync"/>.</summary>
public sealed record BoardStanding(BoardEntry Entry, long Size);

/// <summary>Levels of the two unit hierarchies: regions (province → city → county) and organisations (type → organisation).</summary>
public enum UnitLevel { Province, City, County, OrganisationType, Organisation }

public enum UnitMetric { Participants, ParticipationRate, Rounds, Points, AveragePoints }

/// <summary>
/// A unit board: the units of one level ranked by one metric, for the whole campaign or one day,
/// nationally or among the children of <paramref name="ParentCode"/>.
/// </summary>
public sealed record UnitBoardKey(string CampaignId, UnitLevel Level, UnitMetric Metric, DateOnly? Day = null, string? ParentCode = null)
{
    public override string ToString() => $"{CampaignId}/units/{Level}/{Metric}/{Day?.ToString("yyyyMMdd") ?? "all"}/{ParentCode ?? "*"}";
}

/// <summary>
/// A unit's figures. Participants are distinct persons; the rate is participants ÷ headcount (0
/// without a base); average points are total points ÷ participants. Parents hold the sums of their
/// children's raw counts, never averages of averages.
/// </summary>
/// <param name="SiblingRank">Rank among the units with the same parent (for top-level units: among all of the level).</param>
/// <param name="NationalRank">Rank among all units of the level.</param>
public sealed record UnitStanding(
    UnitLevel Level, string Code, string? ParentCode,
    long Participants, long Headcount, double ParticipationRate,
    long Rounds, long Points, double AveragePoints,
    long SiblingRank, long NationalRank);

/// <summary>
/// A unit with its headcount base for the participation rate. A unit listed with headcount 0 gets
/// the sum of its children's bases. <paramref name="ParentCode"/>: the province of a city, the city
/// of a county, the organisation type of an organisation; null at the top.
/// </summary>
public sealed record UnitBase(UnitLevel Level, string Code, string? ParentCode, long Headcount);

/// <summary>Pushed when a campaign's cached unit boards (of the whole campaign, or of <paramref name="Day"/>) changed, for dashboards.</summary>
public sealed record RankingChange(string CampaignId, DateOnly? Day);

/// <param name="Covered">
/// The node missed rounds that another node's rebuild (or catch-up) had read from the store
/// since: it replayed only the rounds stored after that one, instead of rebuilding the campaign,
/// and <paramref name="Participants"/> counts the people of the rounds it replayed.
/// </param>
public sealed record RebuildReport(string CampaignId, long Rounds, long Participants, TimeSpan Elapsed, bool Covered = false);

/// <param name="Differences">The first differences found (at most 100), readable.</param>
public sealed record ReconcileReport(string CampaignId, long BoardsChecked, long MembersChecked, long DifferenceCount, IReadOnlyList<string> Differences)
{
    public bool Matches => DifferenceCount == 0;
}
