using System.Text.Json;
using Dapper;
using MassTransit;
using Quiz.Server.Play;
using Quiz.Server.Storage;

namespace Quiz.Server.Events;

/// <summary>Per question version: how often it was answered, how often right, how often each option was chosen.</summary>
public sealed class QuestionStatsConsumer(Database database) : IConsumer<RoundCompleted>
{
    public const string Name = "question-stats";

    public async Task Consume(ConsumeContext<RoundCompleted> context)
    {
        var round = context.Message;
        await using var connection = await database.OpenAsync(context.CancellationToken);
        await using var tx = await connection.BeginTransactionAsync(context.CancellationToken);
        if (!await ProjectionGuard.ClaimAsync(connection, tx, Name, round.ResultId)) return;

        foreach (var answer in round.Answers)
        {
            var counts = JsonSerializer.Deserialize<long[]>(await connection.ExecuteScalarAsync<string?>("""
                SELECT option_counts FROM question_stats WHERE question_id = @QuestionId AND question_version = @QuestionVersion
                """, answer, tx) ?? "[0,0,0,0,0,0,0,0]")!;
            foreach (var letter in answer.Chosen) counts[letter - 'A']++;
            await connection.ExecuteAsync("""
                INSERT INTO question_stats (question_id, question_version, answered, correct, option_counts)
                VALUES (@QuestionId, @QuestionVersion, @Answered, @Correct, @Counts)
                ON CONFLICT (question_id, question_version) DO UPDATE SET
                    answered = answered + excluded.answered, correct = correct + excluded.correct, option_counts = excluded.option_counts
                """, new
            {
                answer.QuestionId, answer.QuestionVersion, Answered = answer.Chosen.Length > 0 ? 1 : 0,
                Correct = answer.Correct ? 1 : 0, Counts = JsonSerializer.Serialize(counts),
            }, tx);
        }
        await tx.CommitAsync(context.CancellationToken);
    }
}
