using System.Data.Common;
using System.Text.Json;
using Dapper;
using MassTransit;
using Quiz.Server.Diagnostics;
using Quiz.Server.Play;
using Quiz.Server.Storage;

namespace Quiz.Server.Events;

/// <summary>
/// Per question version: how often it was answered, how often right, how often each option was
/// chosen. Batched like <see cref="UnitDailyStatsConsumer"/>.
/// </summary>
public sealed class QuestionStatsConsumer(StoreWriter writer, QuizMetrics metrics) : IConsumer<RoundsCompleted>
{
    public const string Name = "question-stats";

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
        var sums = new Dictionary<(string Id, int Version), (long Answered, long Correct, long[] Chosen)>();
        foreach (var round in await ProjectionGuard.ClaimAsync(connection, tx, Name, rounds, r => r.ResultId))
        {
            applied++;
            foreach (var answer in round.Answers)
            {
                var key = (answer.QuestionId, answer.QuestionVersion);
                var s = sums.TryGetValue(key, out var found) ? found : (0L, 0L, new long[8]);
                foreach (var letter in answer.Chosen) s.Item3[letter - 'A']++;
                sums[key] = (s.Item1 + (answer.Chosen.Length > 0 ? 1 : 0), s.Item2 + (answer.Correct ? 1 : 0), s.Item3);
            }
        }
        foreach (var ((id, version), s) in sums)
        {
            // The upsert comes first and takes the row's lock, so the counts it returns are the
            // latest ones even when another node updates the same question at the same moment
            // (a read first could be outdated by the time of the write, and lose that node's counts).
            var counts = JsonSerializer.Deserialize<long[]>(await connection.ExecuteScalarAsync<string>("""
                INSERT INTO question_stats (question_id, question_version, answered, correct)
                VALUES (@id, @version, @Answered, @Correct)
                ON CONFLICT (question_id, question_version) DO UPDATE SET
                    answered = question_stats.answered + excluded.answered, correct = question_stats.correct + excluded.correct
                RETURNING option_counts
                """, new { id, version, s.Answered, s.Correct }, tx) ?? "[0,0,0,0,0,0,0,0]")!;
            for (var i = 0; i < counts.Length; i++) counts[i] += s.Chosen[i];
            await connection.ExecuteAsync(
                "UPDATE question_stats SET option_counts = @Counts WHERE question_id = @id AND question_version = @version",
                new { id, version, Counts = JsonSerializer.Serialize(counts) }, tx);
        }
        return applied;
    }
}
