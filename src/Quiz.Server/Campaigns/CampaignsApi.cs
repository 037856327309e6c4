using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Server.Security;
using Quiz.Server.Admin;
using Quiz.Server.Events;
using Quiz.Server.Storage;

namespace Quiz.Server.Campaigns;

public static class CampaignsApi
{
    public static IHostApplicationBuilder AddCampaigns(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CampaignCatalog>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCampaigns(this IEndpointRouteBuilder routes)
    {
        var open = routes.MapGroup("/api/campaigns").WithTags("Campaigns");
        open.MapGet("/", (CampaignCatalog catalog) => TypedResults.Ok(catalog.All.OrderBy(c => c.Id).ToList()))
            .WithSummary("Every campaign with its stages and rules, for the rules page.");
        open.MapGet("/{id}", Results<Ok<Campaign>, NotFound> (CampaignCatalog catalog, string id) =>
            catalog.Get(id) is { } c ? TypedResults.Ok(c) : TypedResults.NotFound());

        var admin = routes.MapGroup("/api/admin/campaigns").WithTags("Campaigns").RequireAdmin();
        admin.MapPut("/{id}", Put).WithSummary("Create or replace a campaign definition.");
        admin.MapPost("/{id}/bonus-attempts", GrantBonus).WithSummary("Grant a participant extra attempts on one day of a stage.");
        return routes;
    }

    public sealed record CampaignErrors(IReadOnlyList<string> Errors);

    private static async Task<Results<Ok<Campaign>, BadRequest<CampaignErrors>>> Put(
        string id, HttpRequest request, CampaignCatalog catalog, ReferenceDataSync nodes, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(ct);
        if (body.Length > 256 * 1024) return TypedResults.BadRequest(new CampaignErrors(["the definition is larger than 256 KB"]));
        var (campaign, errors) = CampaignCatalog.Parse(body);
        if (campaign is not null && campaign.Id != id) errors.Add($"id: the body says '{campaign.Id}', the address '{id}'");
        if (errors.Count > 0) return TypedResults.BadRequest(new CampaignErrors(errors));
        var saved = await catalog.SaveAsync(campaign!, ct);
        await nodes.AnnounceAsync(ReferenceData.Campaigns);
        return TypedResults.Ok(saved);
    }

    public sealed record BonusRequest(long ParticipantId, string StageId, DateOnly Day, int Extra);

    private static async Task<Results<NoContent, NotFound, BadRequest<CampaignErrors>>> GrantBonus(
        string id, BonusRequest bonus, CampaignCatalog catalog, Database database, CancellationToken ct)
    {
        if (catalog.Get(id)?.Stage(bonus.StageId) is not { } stage) return TypedResults.NotFound();
        if (bonus.Extra is < 0 or > 100 || bonus.Day < stage.StartDay || bonus.Day > stage.EndDay)
            return TypedResults.BadRequest(new CampaignErrors(["extra: 0 to 100, on a day of the stage"]));
        await using var connection = await database.OpenAsync(ct);
        if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM participants WHERE id = @ParticipantId", bonus) == 0)
            return TypedResults.NotFound();
        await connection.ExecuteAsync("""
            INSERT INTO bonus_attempts (campaign_id, stage_id, participant_id, day, extra) VALUES (@id, @StageId, @ParticipantId, @Day, @Extra)
            ON CONFLICT (campaign_id, stage_id, participant_id, day) DO UPDATE SET extra = excluded.extra
            """, new { id, bonus.StageId, bonus.ParticipantId, Day = bonus.Day.ToString("yyyy-MM-dd"), bonus.Extra });
        return TypedResults.NoContent();
    }
}
