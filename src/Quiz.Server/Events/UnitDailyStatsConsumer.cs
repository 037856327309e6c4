using Dapper;
using MassTransit;
using Quiz.Server.Play;
using Quiz.Server.Storage;

namespace Quiz.Server.Events;

/// <summary>
/// Daily statistics per unit at every level of the region hierarchy and per organisation: new
/// participants, participants (distinct persons that day), rounds, points. Every ancestor gets
/// the same increments, so a parent is the sum of its children.
/// </summary>
public sealed class UnitDailyStatsConsumer(Database database) : IConsumer<RoundCompleted>
{
    public const string Name = "unit-daily-stats";

    public async Task Consume(ConsumeContext<RoundCompleted> context)
    {
        var round = context.Message;
        await using var connection = await database.OpenAsync(context.CancellationToken);
        await using var tx = await connection.BeginTransactionAsync(context.CancellationToken);
        if (!await ProjectionGuard.ClaimAsync(connection, tx, Name, round.ResultId)) return;

        var units = round.RegionPath.Select(code => ("region", code)).ToList();
        if (round.OrganisationCode is { } organisation) units.Add(("organisation", organisation));
        foreach (var (kind, code) in units)
            await connection.ExecuteAsync("""
                INSERT INTO unit_daily_stats (campaign_id, unit_kind, unit_code, day, new_participants, participants, rounds, points)
                VALUES (@CampaignId, @kind, @code, @Day, @New, @Distinct, 1, @Score)
                ON CONFLICT (campaign_id, unit_kind, unit_code, day) DO UPDATE SET
                    new_participants = new_participants + excluded.new_participants,
                    participants = participants + excluded.participants,
                    rounds = rounds + 1,
                    points = points + excluded.points
                """, new
            {
                round.CampaignId, kind, code, Day = round.Day.ToString("yyyy-MM-dd"),
                New = round.FirstInCampaign ? 1 : 0, Distinct = round.FirstOfDay ? 1 : 0, round.Score,
            }, tx);
        await tx.CommitAsync(context.CancellationToken);
    }
}
