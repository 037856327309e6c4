using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;
using Quiz.Server.Units;
using Quiz.Server.Security;

namespace Quiz.Server.Rankings;

public static class RankingsApi
{
    public static IEndpointRouteBuilder MapRankings(this IEndpointRouteBuilder routes)
    {
        var open = routes.MapGroup("/api/rankings/{campaignId}").WithTags("Rankings");
        open.MapGet("/{stageId}/top", Top).WithSummary("The national top n of a stage (cached about a second).");
        open.MapGet("/{stageId}/me", Me).RequireAuthorization(Access.ParticipantPolicy)
            .WithSummary("My ranks (national, unit, organisation), the people around me, and my unit's rank.");
        open.MapGet("/units", Units).WithSummary("Units of a level ranked by a metric, for the campaign or one day.");
        open.MapGet("/units/mine", MyUnit).RequireAuthorization(Access.ParticipantPolicy)
            .WithSummary("My county's row (participants) among its level's units: what the result page shows beside the round's places.");

        var admin = routes.MapGroup("/api/admin/rankings/{campaignId}").WithTags("Rankings").RequireAdmin();
        admin.MapPost("/rebuild", async Task<Results<Ok<RebuildReport>, NotFound, ProblemHttpResult>> (string campaignId, CampaignCatalog campaigns, RankingService rankings, CancellationToken ct) =>
            campaigns.Get(campaignId) is null ? TypedResults.NotFound() : await Unavailable(async () => TypedResults.Ok((await rankings.RebuildAsync(campaignId, ct: ct)).Rebuild)))
            .WithSummary("Rebuild every board of the campaign from the store.");
        admin.MapGet("/reconcile", async Task<Results<Ok<ReconcileReport>, NotFound, ProblemHttpResult>> (string campaignId, CampaignCatalog campaigns, RankingService rankings, CancellationToken ct) =>
            campaigns.Get(campaignId) is null ? TypedResults.NotFound() : await Unavailable(async () => TypedResults.Ok(await rankings.ReconcileAsync(campaignId, ct))))
            .WithSummary("Compare the boards with a recomputation from the store.");
        return routes;
    }

    /// <summary>The ranking store away (Redis down or restarting): 503 with a reason, not a 500.</summary>
    private static async Task<Results<Ok<T>, NotFound, ProblemHttpResult>> Unavailable<T>(Func<Task<Ok<T>>> call)
    {
        try { return await call(); }
        catch (RankingUnavailableException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The ranking store is unavailable", detail: e.Message);
        }
    }

    private static async Task<Results<Ok<List<RankingService.Entry>>, NotFound>> Top(
        string campaignId, string stageId, int? n, CampaignCatalog campaigns, RankingService rankings, CancellationToken ct)
    {
        // A stage without personal ranking (2025) shows no personal board.
        if (campaigns.Get(campaignId)?.Stage(stageId) is not { PersonalRanking: true }) return TypedResults.NotFound();
        var top = await rankings.Engine.GetTopAsync(BoardKey.National(campaignId, stageId), Math.Clamp(n ?? 100, 1, 100), ct);
        return TypedResults.Ok(await rankings.NamedAsync(top, ct));
    }

    public sealed record MyRanks(
        RankingService.Standing? National, RankingService.Standing? Unit, RankingService.Standing? Organisation,
        IReadOnlyList<RankingService.Entry> Around, RankingService.UnitRow? MyUnit);

    private static async Task<Results<Ok<MyRanks>, NotFound>> Me(
        string campaignId, string stageId, int? around, ClaimsPrincipal user, CampaignCatalog campaigns, ParticipantRegistry participants,
        RankingService rankings, UnitStandings unitStandings, RankingStore store, CancellationToken ct)
    {
        if (campaigns.Get(campaignId)?.Stage(stageId) is not { PersonalRanking: true }) return TypedResults.NotFound();
        var me = await participants.GetAsync(user.ParticipantId(), ct);
        if (me is null) return TypedResults.NotFound();
        var national = BoardKey.National(campaignId, stageId);
        var path = store.RegionPathOf(me.RegionCode);
        // The three places in one engine call (BENCHMARKS.md, "The standing after a round"). With
        // around=0 the list around the person is the person alone, which the national place
        // already is: no walk of the board for it.
        var boards = BoardKey.OfPerson(campaignId, stageId, path[^1], me.OrganisationCode);
        var standings = await rankings.StandingsAsync(boards, me.Id, ct);
        // ... and named from the person's own record, without a read of the store.
        var k = Math.Clamp(around ?? 5, 0, 20);
        List<RankingService.Entry> aroundMe = k > 0 ? await rankings.NamedAsync(await rankings.Engine.GetAroundAsync(national, me.Id, k, ct), ct)
            : standings[0] is { Entry: var mine } ? [rankings.Named(mine, me.Nickname, me.RegionCode)] : [];
        var myUnit = await UnitOfAsync(campaignId, path, unitStandings, ct);
        return TypedResults.Ok(new MyRanks(
            standings[0]?.Standing,
            standings[1]?.Standing,
            standings.Count > 2 ? standings[2]?.Standing : null,
            aroundMe,
            myUnit is null ? null : rankings.Row(myUnit)));
    }

    /// <summary>The person's lowest unit on the board of its level by participants (cached: no personal board is read).</summary>
    private static Task<UnitStanding?> UnitOfAsync(string campaignId, IReadOnlyList<string> regionPath, UnitStandings unitStandings, CancellationToken ct) =>
        unitStandings.GetUnitAsync(new UnitBoardKey(campaignId, (UnitLevel)(regionPath.Count - 1), UnitMetric.Participants), regionPath[^1], ct);

    /// <summary>
    /// The result page's read after a round: the round's reply carries the person's places, so
    /// only their county's standing among its siblings is read, from the unit boards' cache.
    /// </summary>
    private static async Task<Results<Ok<RankingService.UnitRow>, NotFound>> MyUnit(
        string campaignId, ClaimsPrincipal user, CampaignCatalog campaigns, ParticipantRegistry participants,
        RankingService rankings, UnitStandings unitStandings, RankingStore store, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return TypedResults.NotFound();
        if (await participants.GetAsync(user.ParticipantId(), ct) is not { } me) return TypedResults.NotFound();
        return await UnitOfAsync(campaignId, store.RegionPathOf(me.RegionCode), unitStandings, ct) is { } unit
            ? TypedResults.Ok(rankings.Row(unit)) : TypedResults.NotFound();
    }

    private static async Task<Results<Ok<List<RankingService.UnitRow>>, NotFound, ValidationProblem>> Units(
        string campaignId, string? level, string? metric, DateOnly? day, string? parent, int? n, CampaignCatalog campaigns,
        RankingService rankings, UnitStandings unitStandings, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return TypedResults.NotFound();
        var unitLevel = RankingService.ParseLevel(level);
        var unitMetric = RankingService.ParseMetric(metric);
        if (unitLevel is null || unitMetric is null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["level"] = ["province, city, county, organisation-type or organisation"],
                ["metric"] = ["participants, participation-rate, rounds, points or average-points"],
            });
        var board = await unitStandings.GetBoardAsync(new UnitBoardKey(campaignId, unitLevel.Value, unitMetric.Value, day, parent),
            Math.Clamp(n ?? 50, 1, 1000), ct);
        return TypedResults.Ok(board.Select(rankings.Row).ToList());
    }
}
