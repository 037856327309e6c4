using System.Text.Json;
using Dapper;
using MassTransit;
using Quiz.Server.Play;
using Quiz.Server.Storage;

namespace Quiz.Server.Events;

/// <summary>
/// Per question version: how often it was answered, how often right, how often each option was
/// chosen. Batched like <see cref="UnitDailyStatsConsumer"/>.
/// </summary>
public sealed class QuestionStatsConsumer(StoreWriter writer) : IConsumer<Batch<RoundCompleted>>
{
    public const string Name = "question-stats";

    public Task Consume(ConsumeContext<Batch<RoundCompleted>> context) =>
        writer.WriteAsync((connection, tx) => ApplyAsync(connection, tx, context.Message), context.CancellationToken);

    private static async Task<bool> ApplyAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, Batch<RoundCompleted> batch)
    {
        var sums = new Dictionary<(string Id, int Version), (long Answered, long Correct, long[] Chosen)>();
        foreach (var message in batch)
        {
            var round = message.Message;
            if (!await ProjectionGuard.ClaimAsync(connection, tx, Name, round.ResultId)) continue;
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
            var counts = JsonSerializer.Deserialize<long[]>(await connection.ExecuteScalarAsync<string?>(
                "SELECT option_counts FROM question_stats WHERE question_id = @id AND question_version = @version", new { id, version }, tx)
                ?? "[0,0,0,0,0,0,0,0]")!;
            for (var i = 0; i < counts.Length; i++) counts[i] += s.Chosen[i];
            await connection.ExecuteAsync("""
                INSERT INTO question_stats (question_id, question_version, answered, correct, option_counts)
                VALUES (@id, @version, @Answered, @Correct, @Counts)
                ON CONFLICT (question_id, question_version) DO UPDATE SET
                    answered = question_stats.answered + excluded.answered, correct = question_stats.correct + excluded.correct, option_counts = excluded.option_counts
                """, new { id, version, s.Answered, s.Correct, Counts = JsonSerializer.Serialize(counts) }, tx);
        }
        return true;
    }
}
