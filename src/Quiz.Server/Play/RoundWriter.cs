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
        int MaxScore, int Correct, int DurationMs, DateTimeOffset FinishedAt, bool AutoFinished, string? Flagged, int AttemptsLeft, IReadOnlyList<AnswerRow> Answers);

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

    /// <summary>A finish in four statements (a burst commits hundreds of them in one transaction).</summary>
    private static async Task<Committed?> InsertFinishAsync(DbConnection connection, DbTransaction tx, FinishedRound r)
    {
        var before = await connection.QuerySingleAsync<(long? Existing, long InCampaign, long OnDay)>("""
            SELECT (SELECT id FROM results WHERE round_id = @RoundId), COUNT(*), COALESCE(SUM(CASE WHEN day = @Day THEN 1 ELSE 0 END), 0)
            FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId
            """, new { r.RoundId, r.ParticipantId, r.CampaignId, r.Day }, tx);
        if (before.Existing is { } id) return new Committed(id, false, false, AlreadyFinished: true);

        var resultId = await connection.ExecuteScalarAsync<long>("""
            INSERT INTO results (round_id, campaign_id, stage_id, participant_id, day, score, max_score, correct, duration_ms,
                                 finished_at, auto_finished, flagged, first_in_campaign, first_of_day, attempts_left)
            VALUES (@RoundId, @CampaignId, @StageId, @ParticipantId, @Day, @Score, @MaxScore, @Correct, @DurationMs,
                    @Finished, @AutoFinished, @Flagged, @FirstInCampaign, @FirstOfDay, @AttemptsLeft)
            RETURNING id
            """, new
        {
            r.RoundId, r.CampaignId, r.StageId, r.ParticipantId, r.Day, r.Score, r.MaxScore, r.Correct, r.DurationMs, r.AttemptsLeft,
            // 0/1, not bool: the columns are integers on both stores, and PostgreSQL will not take a boolean there.
            Finished = r.FinishedAt.ToString("O"), AutoFinished = r.AutoFinished ? 1 : 0, r.Flagged,
            FirstInCampaign = before.InCampaign == 0 ? 1 : 0, FirstOfDay = before.OnDay == 0 ? 1 : 0,
        }, tx);
        if (r.Answers.Count > 0)
        {
            var parameters = new DynamicParameters(new { resultId });
            for (var i = 0; i < r.Answers.Count; i++)
            {
                var a = r.Answers[i];
                parameters.Add($"p{i}", a.Position);
                parameters.Add($"q{i}", a.QuestionId);
                parameters.Add($"v{i}", a.QuestionVersion);
                parameters.Add($"c{i}", a.Chosen);
                parameters.Add($"k{i}", a.Correct ? 1 : 0);
                parameters.Add($"s{i}", a.Points);
                parameters.Add($"e{i}", a.ElapsedMs);
            }
            await connection.ExecuteAsync(AnswersInsert(r.Answers.Count), parameters, tx);
        }
        await connection.ExecuteAsync("UPDATE rounds SET status = 'finished' WHERE id = @RoundId", new { r.RoundId }, tx);
        return new Committed(resultId, before.InCampaign == 0, before.OnDay == 0, AlreadyFinished: false);
    }

    /// <summary>
    /// The ranks a finish reply gave, kept so that a repeated Finish answers the same (not awaited
    /// by the finish: the round itself is already durable; a crash before this commit leaves NULLs,
    /// and the repeat then asks the boards).
    /// </summary>
    public Task RecordRanksAsync(long resultId, long? national, long? unit, long? organisation) =>
        _writer.WriteAsync(async (connection, tx) =>
        {
            await connection.ExecuteAsync("""
                UPDATE results SET national_rank = @national, unit_rank = @unit, organisation_rank = @organisation WHERE id = @resultId
                """, new { resultId, national, unit, organisation }, tx);
            return 0;
        });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> AnswerInserts = new();

    /// <summary>One multi-row INSERT for a round's answers (one statement instead of one per answer).</summary>
    private static string AnswersInsert(int count) => AnswerInserts.GetOrAdd(count, n =>
        "INSERT INTO answers (result_id, position, question_id, question_version, chosen, correct, points, elapsed_ms) VALUES " +
        string.Join(", ", Enumerable.Range(0, n).Select(i => $"(@resultId, @p{i}, @q{i}, @v{i}, @c{i}, @k{i}, @s{i}, @e{i})")));
}
