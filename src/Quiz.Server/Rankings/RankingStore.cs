using System.Runtime.CompilerServices;
using Dapper;
using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Rankings;

/// <summary>What the ranking engine is rebuilt from: the store's results, streamed in commit order.</summary>
public sealed class RankingStore(Database database, CampaignCatalog campaigns, UnitDirectory units)
{
    private sealed record Row(long Id, string StageId, long ParticipantId, long Score, long DurationMs, string FinishedAt, string Day,
        string RegionCode, string? OrganisationCode, string? Scene);

    /// <summary>The campaign's results with id above <paramref name="afterId"/>, in id order, unbuffered.</summary>
    public async IAsyncEnumerable<RoundFinished> RoundsAfter(string campaignId, long afterId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var campaign = campaigns.Get(campaignId);
        if (campaign is null) yield break;
        await using var connection = await database.OpenAsync(ct);
        // The round's scene is the group of rule best-per-scene-summed. LEFT JOIN: a result whose
        // round row is missing (the rebuild benchmark fills results alone) still ranks.
        var rows = connection.QueryUnbufferedAsync<Row>("""
            SELECT r.id, r.stage_id AS StageId, r.participant_id AS ParticipantId, r.score, r.duration_ms AS DurationMs,
                   r.finished_at AS FinishedAt, r.day, p.region_code AS RegionCode, p.organisation_code AS OrganisationCode, ro.scene
            FROM results r JOIN participants p ON p.id = r.participant_id LEFT JOIN rounds ro ON ro.id = r.round_id
            WHERE r.campaign_id = @campaignId AND r.id > @afterId
            ORDER BY r.id
            """, new { campaignId, afterId });
        await foreach (var row in rows.WithCancellation(ct))
        {
            var stage = campaign.Stage(row.StageId);
            if (stage is null) continue;
            var organisation = row.OrganisationCode is { } code ? units.Organisation(code) : null;
            yield return new RoundFinished(campaignId, row.StageId, stage.Rule, row.Id, row.ParticipantId, (int)row.Score, (int)row.DurationMs,
                DateTimeOffset.Parse(row.FinishedAt, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(row.Day, System.Globalization.CultureInfo.InvariantCulture),
                RegionPathOf(row.RegionCode), organisation?.Code, organisation?.Type, campaign.Start, row.Scene);
        }
    }

    /// <summary>
    /// How many results the campaign has with id above <paramref name="afterId"/> (of its current
    /// stages, as <see cref="RoundsAfter"/> streams), and the highest id. Ids follow commit order,
    /// so a caller that remembers the highest id counts only what was committed since.
    /// </summary>
    public async Task<(long Count, long MaxId)> CountAsync(string campaignId, long afterId, CancellationToken ct = default)
    {
        var stages = campaigns.Get(campaignId)?.Stages.Select(s => s.Id).ToArray() ?? [];
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleAsync<(long, long)>(
            $"SELECT COUNT(*), COALESCE(MAX(id), 0) FROM results WHERE campaign_id = @campaignId AND id > @afterId AND stage_id {database.InList("stages")}",
            new { campaignId, afterId, stages });
    }

    /// <summary>The ranking engine ranks the first three levels (province, city, county).</summary>
    public IReadOnlyList<string> RegionPathOf(string regionCode) => units.PathOf(regionCode).Take(3).ToList();

    /// <summary>
    /// Headcount bases for a campaign's participation rate: every region (of the kind the campaign
    /// names: resident adults or the officials' target) and organisation.
    /// </summary>
    public IEnumerable<UnitBase> Bases(string campaignId)
    {
        var kind = campaigns.Get(campaignId)?.HeadcountBase ?? HeadcountBase.Residents;
        foreach (var region in units.Regions.Where(r => r.Depth <= 3))
            yield return new UnitBase((UnitLevel)(region.Depth - 1), region.Code, region.ParentCode, units.BaseOf(region.Code, kind));
        foreach (var type in units.Organisations.Select(o => o.Type).Distinct())
            yield return new UnitBase(UnitLevel.OrganisationType, type, null, 0);
        foreach (var organisation in units.Organisations)
            yield return new UnitBase(UnitLevel.Organisation, organisation.Code, organisation.Type, organisation.HeadcountBase);
    }
}
