using Dapper;
using Quiz.Server.Security;
using Quiz.Server.Storage;

namespace Quiz.Server.Play;

public static class PlayAdminApi
{
    public sealed record FlaggedRound(string RoundId, long ParticipantId, string Nickname, string CampaignId, string StageId, long Score,
        long DurationMs, string FinishedAt, string Flagged);

    /// <summary>Rounds that look automated: kept and counted, shown here for a person to judge.</summary>
    public static IEndpointRouteBuilder MapPlayAdmin(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/admin/rounds").WithTags("Play").RequireAdmin()
            .MapGet("/flagged", async (string? campaignId, Database database, CancellationToken ct) =>
            {
                await using var connection = await database.OpenAsync(ct);
                var rows = await connection.QueryAsync<FlaggedRound>("""
                    SELECT r.round_id AS RoundId, r.participant_id AS ParticipantId, p.nickname, r.campaign_id AS CampaignId,
                           r.stage_id AS StageId, r.score, r.duration_ms AS DurationMs, r.finished_at AS FinishedAt, r.flagged
                    FROM results r JOIN participants p ON p.id = r.participant_id
                    WHERE r.flagged IS NOT NULL AND (@campaignId IS NULL OR r.campaign_id = @campaignId)
                    ORDER BY r.id DESC LIMIT 500
                    """, new { campaignId });
                return TypedResults.Ok(rows.ToList());
            }).WithSummary("The latest 500 flagged rounds.");
        return routes;
    }
}
