using System.Data.Common;
using System.Threading.Channels;
using Dapper;
using Quiz.Server.Diagnostics;
using Quiz.Server.Storage;

namespace Quiz.Server.Play;

/// <summary>
/// The one writer of rounds (rule 2): starts and finishes that arrive together are committed in
/// one transaction, and each caller awaits its own item. One fsync serves a whole burst.
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

    private abstract record Item(TaskCompletionSource<Committed?> Done);
    private sealed record StartItem(StartedRound Round, TaskCompletionSource<Committed?> Done) : Item(Done);
    private sealed record FinishItem(FinishedRound Round, TaskCompletionSource<Committed?> Done) : Item(Done);

    private readonly Channel<Item> _queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(100_000) { SingleReader = true });
    private readonly Database _database;
    private readonly ILogger<RoundWriter> _logger;
    private readonly Task _loop;
    private readonly int _maxBatch;
    private readonly QuizMetrics _metrics;

    public RoundWriter(Database database, QuizMetrics metrics, ILogger<RoundWriter> logger, int maxBatch = 512)
    {
        _database = database;
        _metrics = metrics;
        _logger = logger;
        _maxBatch = maxBatch;
        _loop = Task.Run(RunAsync);
    }

    public async Task StartAsync(StartedRound round, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource<Committed?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new StartItem(round, done), ct);
        await done.Task;
    }

    public async Task<Committed> FinishAsync(FinishedRound round, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource<Committed?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new FinishItem(round, done), ct);
        return (await done.Task)!;
    }

    private async Task RunAsync()
    {
        var batch = new List<Item>(_maxBatch);
        await foreach (var first in _queue.Reader.ReadAllAsync())
        {
            batch.Clear();
            batch.Add(first);
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var more)) batch.Add(more);
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var results = await CommitAsync(batch);
                _metrics.StoreCommit.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                _metrics.StoreBatchSize.Record(batch.Count);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception batchError) when (batch.Count > 1)
            {
                // One bad item must not fail its neighbours: retry each alone.
                _logger.LogWarning(batchError, "A batch of {Count} rounds failed; committing them one by one", batch.Count);
                foreach (var item in batch)
                {
                    try { item.Done.TrySetResult((await CommitAsync([item]))[0]); }
                    catch (Exception e) { item.Done.TrySetException(e); }
                }
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(e);
            }
        }
    }

    private async Task<Committed?[]> CommitAsync(List<Item> batch)
    {
        await using var connection = await _database.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var results = new Committed?[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            results[i] = batch[i] switch
            {
                StartItem s => await InsertStartAsync(connection, tx, s.Round),
                FinishItem f => await InsertFinishAsync(connection, tx, f.Round),
                _ => null,
            };
        }
        await tx.CommitAsync();
        return results;
    }

    private static async Task<Committed?> InsertStartAsync(DbConnection connection, DbTransaction tx, StartedRound r)
    {
        await connection.ExecuteAsync("""
            INSERT INTO rounds (id, campaign_id, stage_id, participant_id, day, started_at, deadline, status, questions)
            VALUES (@Id, @CampaignId, @StageId, @ParticipantId, @Day, @Started, @DeadlineText, 'started', @QuestionsJson)
            """, new { r.Id, r.CampaignId, r.StageId, r.ParticipantId, r.Day, Started = r.StartedAt.ToString("O"), DeadlineText = r.Deadline.ToString("O"), r.QuestionsJson }, tx);
        return null;
    }

    private static async Task<Committed> InsertFinishAsync(DbConnection connection, DbTransaction tx, FinishedRound r)
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

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }
}
