using System.Data.Common;
using Dapper;
using Quiz.Server.Diagnostics;
using Quiz.Server.Storage;

namespace Quiz.Server.Play;

/// <summary>
/// The one writer of rounds (rule 2): starts and finishes that arrive together are committed in
/// one transaction (<see cref="GroupCommit{TItem,TResult}"/>), and each caller awaits its own.
/// </summary>
public sealed class RoundWriter : IAsyncDisposable
{
    public sealed record StartedRound(string Id, string CampaignId, string StageId, long ParticipantId, string Day,
        DateTimeOffset StartedAt, DateTimeOffset Deadline, string QuestionsJson);

    public sealed record AnswerRow(int Position, string QuestionId, int QuestionVersion, string Chosen, bool Correct, int Points, int? ElapsedMs);

    public sealed record FinishedRound(string RoundId, string CampaignId, string StageId, long ParticipantId, string Day, int Score,
        int MaxScore, int Correct, int DurationMs, DateTimeOffset FinishedAt, bool AutoFinished, string? Flagged, IReadOnlyList<AnswerRow> Answers);

    /// <summary>The committed result: its id follows commit order.</summary>
    public sealed record Committed(long ResultId, bool FirstInCampaign, bool FirstOfDay, bool AlreadyFinished);

    private readonly GroupCommit<object, Committed?> _commits;

    public RoundWriter(Database database, QuizMetrics metrics, ILogger<RoundWriter> logger)
    {
        _commits = new GroupCommit<object, Committed?>(database, ApplyAsync, logger, (count, took) =>
        {
            metrics.StoreBatchSize.Record(count);
            metrics.StoreCommit.Record(took.TotalMilliseconds);
        });
    }

    public Task StartAsync(StartedRound round, CancellationToken ct = default) => _commits.CommitAsync(round, ct);

    public async Task<Committed> FinishAsync(FinishedRound round, CancellationToken ct = default) => (await _commits.CommitAsync(round, ct))!;

    private static Task<Committed?> ApplyAsync(DbConnection connection, DbTransaction tx, object item) => item switch
    {
        StartedRound start => InsertStartAsync(connection, tx, start),
        FinishedRound finish => InsertFinishAsync(connection, tx, finish)!,
        _ => throw new ArgumentException($"Not a round write: {item.GetType().Name}"),
    };

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

    public ValueTask DisposeAsync() => _commits.DisposeAsync();
}
