using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Server.Campaigns;
using Quiz.Server.Dashboard;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Live;

/// <summary>
/// Live-session participation on the unit dashboard, apart from quiz rounds (issue 16, part 4):
/// for a unit and its child regions, the people who joined a live session during the campaign's
/// days, by the region each gave (a guest) or registered with (a participant). A guest cannot be
/// told apart across sessions, so a person who joins two sessions counts in each: these are joins.
/// </summary>
public sealed record LiveJoinsRow(string Code, string Name, long Joins, long Sessions);

/// <param name="Unit">The unit asked for; null for the country.</param>
public sealed record LiveJoinsView(LiveJoinsRow? Unit, IReadOnlyList<LiveJoinsRow> Children);

public static class LiveParticipation
{
    public static async Task<Results<Ok<LiveJoinsView>, NotFound, ForbidHttpResult>> GetAsync(
        string campaignId, string? unit, ClaimsPrincipal user, UnitScope scope, CampaignCatalog campaigns, UnitDirectory units, Database database,
        CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign) return TypedResults.NotFound();
        var code = string.IsNullOrWhiteSpace(unit) ? UnitScope.UnitOf(user) : unit;
        if (!scope.Allows(user, code)) return TypedResults.Forbid();
        if (code is not null && units.Region(code) is null) return TypedResults.NotFound();

        // The campaign's days, from midnight of the first to midnight after the last, in its own time zone.
        var from = campaign.Start.ToUniversalTime().ToString("O");
        var to = new DateTimeOffset(campaign.Stages.Max(s => s.EndDay).AddDays(1).ToDateTime(TimeOnly.MinValue), campaign.Offset).ToUniversalTime().ToString("O");
        await using var connection = await database.OpenAsync(ct);
        var joins = await connection.QueryAsync<(string Region, string Session)>("""
            SELECT region_code AS Region, session_id AS Session FROM live_players
            WHERE region_code IS NOT NULL AND joined_at >= @from AND joined_at < @to
            """, new { from, to });

        var counted = new Dictionary<string, (long Joins, HashSet<string> Sessions)>();
        foreach (var (region, session) in joins)
            foreach (var step in units.PathOf(region))
            {
                var entry = counted.TryGetValue(step, out var found) ? found : (0, new HashSet<string>());
                entry.Sessions.Add(session);
                counted[step] = (entry.Joins + 1, entry.Sessions);
            }
        LiveJoinsRow RowOf(Region r) => counted.TryGetValue(r.Code, out var c) ? new LiveJoinsRow(r.Code, r.Name, c.Joins, c.Sessions.Count) : new LiveJoinsRow(r.Code, r.Name, 0, 0);
        var children = units.Children(code).Select(RowOf).OrderByDescending(r => r.Joins).ThenBy(r => r.Code, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new LiveJoinsView(code is null ? null : RowOf(units.Region(code)!), children));
    }
}
