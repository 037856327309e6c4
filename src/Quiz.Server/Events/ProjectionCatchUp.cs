using System.Data.Common;
using System.Globalization;
using Dapper;
using Quiz.Server.Play;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Events;

/// <summary>
/// Rule 8 for the projections: an event lost between the commit and the bus (a node killed, the
/// broker away, a batch that failed all its retries) is not lost to them. Every
/// <c>Bus:CatchUpInterval</c> (5 s), from start-up on, each projection looks for finished rounds it
/// has not applied and applies them from the store, through the same code as its consumer and
/// under the same guard, so whichever comes second (the event or the catch-up) changes nothing.
/// <para>
/// A round is caught up once it has been in the store for a whole interval (its id is at most the
/// highest id of the previous look), which leaves its event time to arrive first. Each projection
/// has a watermark in the store (<c>projection_watermarks</c>): the result id up to which it has
/// applied everything, so a look reads only the rounds committed since, a restarted node starts
/// where any node left off, and the claims below it are deleted.
/// </para>
/// </summary>
public sealed class ProjectionCatchUp(Database database, StoreWriter writer, UnitDirectory units, BusOptions options,
    ILogger<ProjectionCatchUp> logger) : BackgroundService
{
    /// <summary>Rounds read and applied in one transaction.</summary>
    private const int Chunk = 500;

    private sealed class Projection(string name, Func<DbConnection, DbTransaction, IReadOnlyList<RoundCompleted>, Task<int>> apply)
    {
        public string Name { get; } = name;
        public Func<DbConnection, DbTransaction, IReadOnlyList<RoundCompleted>, Task<int>> ApplyAsync { get; } = apply;
        /// <summary>Every result up to this id is applied.</summary>
        public long Watermark { get; set; }
    }

    private readonly Projection[] _projections =
    [
        new(UnitDailyStatsConsumer.Name, UnitDailyStatsConsumer.ApplyAsync),
        new(QuestionStatsConsumer.Name, QuestionStatsConsumer.ApplyAsync),
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? settled = null; // the highest result id at the previous look
        using var timer = new PeriodicTimer(options.CatchUpInterval);
        do
        {
            try
            {
                await using (var connection = await database.OpenAsync(stoppingToken))
                    foreach (var projection in _projections)
                        projection.Watermark = Math.Max(projection.Watermark, await ProjectionGuard.WatermarkAsync(connection, projection.Name));
                var highest = await HighestResultIdAsync(stoppingToken);
                if (settled is { } through)
                    foreach (var projection in _projections) await CatchUpAsync(projection, through, stoppingToken);
                settled = highest;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Projections not caught up from the store: {Reason}; the next look tries again", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<long> HighestResultIdAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(id), 0) FROM results");
    }

    private async Task CatchUpAsync(Projection projection, long through, CancellationToken ct)
    {
        var from = projection.Watermark;
        while (projection.Watermark < through)
        {
            List<long> missing;
            await using (var connection = await database.OpenAsync(ct))
                missing = (await connection.QueryAsync<long>("""
                    SELECT r.id FROM results r
                    WHERE r.id > @after AND r.id <= @through
                      AND NOT EXISTS (SELECT 1 FROM projection_applied a WHERE a.projection = @name AND a.result_id = r.id)
                    ORDER BY r.id LIMIT @Chunk
                    """, new { after = projection.Watermark, through, name = projection.Name, Chunk })).ToList();
            if (missing.Count == 0)
            {
                projection.Watermark = through;
                break;
            }
            List<RoundCompleted> rounds;
            await using (var connection = await database.OpenAsync(ct)) rounds = await LoadAsync(connection, units, missing);
            var applied = await writer.WriteAsync((connection, tx) => projection.ApplyAsync(connection, tx, rounds), ct);
            if (applied > 0)
                logger.LogWarning("Projection {Projection} caught up {Applied} rounds from the store whose events did not come (results {First} to {Last})",
                    projection.Name, applied, missing[0], missing[^1]);
            // Everything up to the last of them is applied now: by this call or, in between, by its event.
            projection.Watermark = missing.Count < Chunk ? through : missing[^1];
        }
        if (projection.Watermark > from)
            await writer.WriteAsync(async (connection, tx) =>
            {
                await ProjectionGuard.AdvanceAsync(connection, tx, projection.Name, projection.Watermark);
                return 0;
            }, ct);
    }

    private sealed record ResultRow(long Id, string RoundId, string CampaignId, string StageId, long ParticipantId, string Day, long Score,
        long MaxScore, long DurationMs, string FinishedAt, long FirstInCampaign, long FirstOfDay, string RegionCode, string? OrganisationCode);

    private sealed record AnswerRow(long ResultId, string QuestionId, long QuestionVersion, string Chosen, long Correct);

    /// <summary>The events these results would have published: the same fields, from the store.</summary>
    internal static async Task<List<RoundCompleted>> LoadAsync(DbConnection connection, UnitDirectory units, IReadOnlyList<long> list)
    {
        var ids = list.ToArray();
        var rows = await connection.QueryAsync<ResultRow>($"""
            SELECT r.id, r.round_id AS RoundId, r.campaign_id AS CampaignId, r.stage_id AS StageId, r.participant_id AS ParticipantId, r.day,
                   r.score, r.max_score AS MaxScore, r.duration_ms AS DurationMs, r.finished_at AS FinishedAt,
                   r.first_in_campaign AS FirstInCampaign, r.first_of_day AS FirstOfDay,
                   p.region_code AS RegionCode, p.organisation_code AS OrganisationCode
            FROM results r JOIN participants p ON p.id = r.participant_id
            WHERE r.id {Database.InList(connection, "ids")} ORDER BY r.id
            """, new { ids });
        var answers = (await connection.QueryAsync<AnswerRow>($"""
            SELECT result_id AS ResultId, question_id AS QuestionId, question_version AS QuestionVersion, chosen, correct
            FROM answers WHERE result_id {Database.InList(connection, "ids")} ORDER BY result_id, position
            """, new { ids })).ToLookup(a => a.ResultId);
        return rows.Select(r =>
        {
            var organisation = r.OrganisationCode is { } code ? units.Organisation(code) : null;
            return new RoundCompleted(r.Id, r.RoundId, r.CampaignId, r.StageId, r.ParticipantId, DateOnly.Parse(r.Day, CultureInfo.InvariantCulture),
                (int)r.Score, (int)r.MaxScore, (int)r.DurationMs, DateTimeOffset.Parse(r.FinishedAt, CultureInfo.InvariantCulture),
                units.PathOf(r.RegionCode), organisation?.Code, organisation?.Type, r.FirstInCampaign != 0, r.FirstOfDay != 0,
                answers[r.Id].Select(a => new CompletedAnswer(a.QuestionId, (int)a.QuestionVersion, a.Chosen, a.Correct != 0)).ToList());
        }).ToList();
    }
}
