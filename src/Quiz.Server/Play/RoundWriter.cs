using System.Data.Common;
using Dapper;
using Quiz.Server.Storage;

namespace Quiz.Server.Play;

/// <summary>
/// Rounds in the store: a start (it counts against the day's attempts) and a finish with every
/// answer, each committed through the <see cref="StoreWriter"/> before the caller goes on.
/// </summary>
public sealed class RoundWriter
{
    public sealed record StartedRound(string Id, string CampaignId, string StageId, long ParticipantId, string Day,
        DateTimeOffset StartedAt, DateTimeOffset Deadline, string QuestionsJson);

    public sealed record AnswerRow(int Position, string QuestionId, int QuestionVersion, string Chosen, bool Correct, int Points, int? ElapsedMs);

    public sealed record FinishedRound(string RoundId, string CampaignId, string StageId, long ParticipantId, string Day, int Score,
        int MaxScore, int Correct, int DurationMs, DateTimeOffset FinishedAt, bool AutoFinished, string? Flagged, IReadOnlyList<AnswerRow> Answers);

    /// <summary>The committed result: its id follows commit order.</summary>
    public sealed record Committed(long ResultId, bool FirstInCampaign, bool FirstOfDay, bool AlreadyFinished);

    private readonly StoreWriter _writer;

    public RoundWriter(StoreWriter writer) => _writer = writer;

    public Task StartAsync(StartedRound round, CancellationToken ct = default) =>
        _writer.WriteAsync((connection, tx) => InsertStartAsync(connection, tx, round), ct);

    public async Task<Committed> FinishAsync(FinishedRound round, CancellationToken ct = default) =>
        (await _writer.WriteAsync((connection, tx) => InsertFinishAsync(connection, tx, round), ct))!;

    private static async Task<Committed?> InsertStartAsync(DbConnection connection, DbTransaction tx, StartedRound r)
    {
        await connection.ExecuteAsync("""
            INSERT INTO rounds (id, campaign_id, stage_id, participant_id, day, started_at, deadline, status, questions)
            VALUES (@Id, @CampaignId, @StageId, @ParticipantId, @Day, @Started, @DeadlineText, 'started', @QuestionsJson)
            """, new { r.Id, r.CampaignId, r.StageId, r.ParticipantId, r.Day, Started = r.StartedAt.ToString("O"), DeadlineText = r.Deadline.ToString("O"), r.QuestionsJson }, tx);
        return null;
    }

    private static async Task<Committed?> InsertFinishAsync(DbConnection connection, DbTransaction tx, FinishedRound r)
    {
        var existing = await connection.ExecuteScalarAsync<long?>("SELECT id FROM results WHERE round_id = @RoundId", new { r.RoundId }, tx);
        if (existing is { } id) return new Committed(id, false, false, AlreadyFinished: true);

        var played = await connection.QuerySingleAsync<(long InCampaign, long OnDay)>("""
            SELECT COUNT(*), COALESCE(SUM(day = @Day), 0) FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId
            """, new { r.ParticipantId, r.CampaignId, r.Day }, tx);
        var resultId = await connection.ExecuteScalarAsync<long>("""
            INSERT INTO results (round_id, campaign_id, stage_id, participant_id, day, score, max_score, correct, duration_ms,
                                 finished_at, auto_finished, flagged, first_in_campaign, first_of_day)
            VALUES (@RoundId, @CampaignId, @StageId, @ParticipantId, @Day, @Score, @MaxScore, @Correct, @DurationMs,
                    @Finished, @AutoFinished, @Flagged, @FirstInCampaign, @FirstOfDay)
            RETURNING id
            """, new
        {
            r.RoundId, r.CampaignId, r.StageId, r.ParticipantId, r.Day, r.Score, r.MaxScore, r.Correct, r.DurationMs,
            Finished = r.FinishedAt.ToString("O"), r.AutoFinished, r.Flagged, FirstInCampaign = played.InCampaign == 0, FirstOfDay = played.OnDay == 0,
        }, tx);
        foreach (var a in r.Answers)
            await connection.ExecuteAsync("""
                INSERT INTO answers (result_id, position, question_id, question_version, chosen, correct, points, elapsed_ms)
                VALUES (@resultId, @Position, @QuestionId, @QuestionVersion, @Chosen, @Correct, @Points, @ElapsedMs)
                """, new { resultId, a.Position, a.QuestionId, a.QuestionVersion, a.Chosen, a.Correct, a.Points, a.ElapsedMs }, tx);
        await connection.ExecuteAsync("UPDATE rounds SET status = 'finished' WHERE id = @RoundId", new { r.RoundId }, tx);
        return new Committed(resultId, played.InCampaign == 0, played.OnDay == 0, AlreadyFinished: false);
    }

}
