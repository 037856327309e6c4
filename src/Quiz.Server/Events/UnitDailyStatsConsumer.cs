using System.Data.Common;
using Dapper;
using MassTransit;
using Quiz.Server.Diagnostics;
using Quiz.Server.Play;
using Quiz.Server.Storage;

namespace Quiz.Server.Events;

/// <summary>
/// Daily statistics per unit at every level of the region hierarchy and per organisation: new
/// participants, participants (distinct persons that day), rounds, points. Every ancestor gets
/// the same increments, so a parent is the sum of its children. Rounds arrive in batches, summed
/// in memory and written in one transaction: a burst of finishes costs a few commits, not one each.
/// </summary>
public sealed class UnitDailyStatsConsumer(StoreWriter writer, QuizMetrics metrics) : IConsumer<RoundsCompleted>
{
    public const string Name = "unit-daily-stats";

    private sealed record Key(string CampaignId, string Kind, string Code, string Day);

    public async Task Consume(ConsumeContext<RoundsCompleted> context)
    {
        var rounds = context.Message.Rounds;
        var applied = await writer.WriteAsync((connection, tx) => ApplyAsync(connection, tx, rounds), context.CancellationToken);
        metrics.Projected(Name, rounds.Count, applied);
    }

    /// <summary>
    /// The projection itself, for the consumer and for the catch-up from the store alike: applies
    /// the rounds this projection has not applied yet, and returns how many it applied.
    /// </summary>
    public static async Task<int> ApplyAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<RoundCompleted> rounds)
    {
        var applied = 0;
        var sums = new Dictionary<Key, (long New, long Distinct, long Rounds, long Points)>();
        foreach (var round in await ProjectionGuard.ClaimAsync(connection, tx, Name, rounds, r => r.ResultId))
        {
            applied++;
            var day = round.Day.ToString("yyyy-MM-dd");
            var units = round.RegionPath.Select(code => new Key(round.CampaignId, "region", code, day)).ToList();
            if (round.OrganisationCode is { } organisation) units.Add(new Key(round.CampaignId, "organisation", organisation, day));
            foreach (var key in units)
            {
                var s = sums.GetValueOrDefault(key);
                sums[key] = (s.New + (round.FirstInCampaign ? 1 : 0), s.Distinct + (round.FirstOfDay ? 1 : 0), s.Rounds + 1, s.Points + round.Score);
            }
        }
        foreach (var (key, s) in sums)
            await connection.ExecuteAsync("""
                INSERT INTO unit_daily_stats (campaign_id, unit_kind, unit_code, day, new_participants, participants, rounds, points)
                VALUES (@CampaignId, @Kind, @Code, @Day, @New, @Distinct, @Rounds, @Points)
                ON CONFLICT (campaign_id, unit_kind, unit_code, day) DO UPDATE SET
                    new_participants = unit_daily_stats.new_participants + excluded.new_participants,
                    participants = unit_daily_stats.participants + excluded.participants,
                    rounds = unit_daily_stats.rounds + excluded.rounds,
                    points = unit_daily_stats.points + excluded.points
                """, new { key.CampaignId, key.Kind, key.Code, key.Day, s.New, s.Distinct, s.Rounds, s.Points }, tx);
        return applied;
    }
}
