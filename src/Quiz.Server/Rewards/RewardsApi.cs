using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;
using Quiz.Server.Security;

namespace Quiz.Server.Rewards;

/// <summary>
/// What a participant earns besides the rounds' ranks (2025: flowers, points, ladders, prizes by
/// total): their totals, the daily learning task, and their invitation. Participant token only.
/// </summary>
public static class RewardsApi
{
    public static IHostApplicationBuilder AddRewards(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RewardStore>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRewards(this IEndpointRouteBuilder routes)
    {
        var stage = routes.MapGroup("/api/campaigns/{campaignId}/{stageId}").WithTags("Rewards")
            .RequireAuthorization(Access.ParticipantPolicy);
        stage.MapGet("/me", Totals).WithSummary("My totals in a stage: score (2025: flowers), points, ladders, and the prize tiers I reach.");
        stage.MapGet("/learning", Learning).WithSummary("Today's learning item, and whether I did it.");
        stage.MapPost("/learning", Learn).WithSummary("Acknowledge today's learning item: its points, once a day.");

        routes.MapGet("/api/participants/me/invitation", Invitation).WithTags("Rewards")
            .RequireAuthorization(Access.ParticipantPolicy).WithSummary("My invitation code and link.");
        return routes;
    }

    private static async Task<Results<Ok<RewardStore.Totals>, NotFound>> Totals(
        string campaignId, string stageId, ClaimsPrincipal user, CampaignCatalog campaigns, ParticipantRegistry participants, RewardStore rewards, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign || campaign.Stage(stageId) is not { } stage) return TypedResults.NotFound();
        if (await participants.GetAsync(user.ParticipantId(), ct) is not { } me) return TypedResults.NotFound();
        return TypedResults.Ok(await rewards.TotalsAsync(me, campaign, stage, ct));
    }

    public sealed record LearningView(DateOnly Day, string Title, string Text, bool Done, int Points);

    private static async Task<Results<Ok<LearningView>, NotFound>> Learning(
        string campaignId, string stageId, ClaimsPrincipal user, CampaignCatalog campaigns, RewardStore rewards, TimeProvider clock, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign || campaign.Stage(stageId) is not { } stage) return TypedResults.NotFound();
        var day = campaign.DayOf(clock.GetUtcNow());
        if (stage.LearningOn(day) is not { } item) return TypedResults.NotFound();
        var done = await rewards.LearnedAsync(user.ParticipantId(), campaignId, stageId, day, ct);
        return TypedResults.Ok(new LearningView(day, item.Title, item.Text, done, stage.BonusPoints.LearningTask));
    }

    /// <param name="PointsAdded">The learning task's points when this call did the day's task; 0 when it was done already.</param>
    public sealed record Learned(DateOnly Day, int PointsAdded);

    private static async Task<Results<Ok<Learned>, NotFound, ProblemHttpResult>> Learn(
        string campaignId, string stageId, ClaimsPrincipal user, CampaignCatalog campaigns, RewardStore rewards, TimeProvider clock, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign || campaign.Stage(stageId) is not { } stage) return TypedResults.NotFound();
        var now = clock.GetUtcNow();
        var day = campaign.DayOf(now);
        if (stage.LearningOn(day) is null) return TypedResults.NotFound();
        // Points are earned while the stage is open, as rounds are (not before 10:00 on its first day).
        if (!stage.IsOpenAt(now, campaign.Offset))
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The stage is not open now.",
                extensions: new Dictionary<string, object?> { ["code"] = "stage-closed" });
        var added = await rewards.LearnAsync(user.ParticipantId(), campaignId, stageId, day, ct);
        return TypedResults.Ok(new Learned(day, added ? stage.BonusPoints.LearningTask : 0));
    }

    /// <param name="Link">The phone page's address with the code (relative to the site): a friend who registers from it is recorded as invited.</param>
    public sealed record InvitationView(string Code, string Link);

    private static async Task<Ok<InvitationView>> Invitation(ClaimsPrincipal user, RewardStore rewards, CancellationToken ct)
    {
        var code = await rewards.InviteCodeAsync(user.ParticipantId(), ct);
        return TypedResults.Ok(new InvitationView(code, $"/?invite={code}"));
    }
}
