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

    /// <summary>Sums of one batch, a question version each: answered, right, and times each option (A–H) was chosen.</summary>
    private readonly record struct Sums(long Answered, long Correct, long[] Chosen);

    /// <summary>
    /// The projection itself, for the consumer and for the catch-up from the store alike: applies
    /// the rounds this projection has not applied yet, and returns how many it applied.
    /// </summary>
    public static async Task<int> ApplyAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<RoundCompleted> rounds)
    {
        var applied = 0;
        var sums = new Dictionary<(string Id, int Version), Sums>();
        foreach (var round in await ProjectionGuard.ClaimAsync(connection, tx, Name, rounds, r => r.ResultId))
        {
            applied++;
            foreach (var answer in round.Answers)
            {
                var key = (answer.QuestionId, answer.QuestionVersion);
                var s = sums.TryGetValue(key, out var found) ? found : new Sums(0, 0, new long[Options]);
                foreach (var letter in answer.Chosen) s.Chosen[letter - 'A']++;
                sums[key] = s with { Answered = s.Answered + (answer.Chosen.Length > 0 ? 1 : 0), Correct = s.Correct + (answer.Correct ? 1 : 0) };
            }
        }
        if (sums.Count > 0) await UpsertAsync(connection, tx, sums);
        return applied;
    }

    /// <summary>Options a question can have (A–H): a column each, <c>chosen_a</c> to <c>chosen_h</c>.</summary>
    private const int Options = 8;

    /// <summary>The columns of the times each option was chosen, A first (migration 19).</summary>
    private static readonly string[] Chosen = [.. Enumerable.Range(0, Options).Select(i => $"chosen_{(char)('a' + i)}")];

    /// <summary><see cref="Chosen"/> as a column list.</summary>
    public static readonly string ChosenColumns = string.Join(", ", Chosen);

    /// <summary>
    /// Adds a batch's sums to the stored rows in one statement. The upsert adds to the row it
    /// locks, so counts another node adds to the same question at the same moment are kept. It was
    /// two statements a question while the option counts were a JSON text (the upsert, then the
    /// counts written back): ~140 a batch of 16 rounds, half the store writer's statements in play
    /// (BENCHMARKS.md, "The projections' statements folded").
    /// </summary>
    private static Task UpsertAsync(DbConnection connection, DbTransaction tx, Dictionary<(string Id, int Version), Sums> sums)
    {
        var rows = sums.ToArray();
        if (connection is not Npgsql.NpgsqlConnection)
            // SQLite has no arrays: the rows go as one JSON array of [id, version, answered, right, A, B, ..., H].
            return connection.ExecuteAsync(SqliteUpsert, new { rows = JsonSerializer.Serialize(rows.Select(r =>
                (object[])[r.Key.Id, r.Key.Version, r.Value.Answered, r.Value.Correct, .. r.Value.Chosen.Cast<object>()])) }, tx);
        var arguments = new DynamicParameters();
        arguments.Add("Ids", rows.Select(r => r.Key.Id).ToArray());
        arguments.Add("Versions", rows.Select(r => r.Key.Version).ToArray());
        arguments.Add("Answered", rows.Select(r => r.Value.Answered).ToArray());
        arguments.Add("Correct", rows.Select(r => r.Value.Correct).ToArray());
        for (var i = 0; i < Options; i++) arguments.Add($"Chosen{i}", rows.Select(r => r.Value.Chosen[i]).ToArray());
        return connection.ExecuteAsync(PostgresUpsert, arguments, tx);
    }

    /// <summary>The upsert of a batch's rows, read from <paramref name="rows"/> (a SELECT of the columns in order).</summary>
    private static string Upsert(string rows) => $"""
        INSERT INTO question_stats (question_id, question_version, answered, correct, {ChosenColumns})
        {rows}
        ON CONFLICT (question_id, question_version) DO UPDATE SET
            answered = question_stats.answered + excluded.answered, correct = question_stats.correct + excluded.correct,
            {string.Join(", ", Chosen.Select(c => $"{c} = question_stats.{c} + excluded.{c}"))}
        """;

    private static readonly string SqliteUpsert =
        Upsert($"SELECT {string.Join(", ", Enumerable.Range(0, 4 + Options).Select(i => $"value ->> {i}"))} FROM json_each(@rows) WHERE true");

    private static readonly string PostgresUpsert = Upsert(
        $"SELECT * FROM unnest(@Ids::text[], @Versions::int[], @Answered::bigint[], @Correct::bigint[], {string.Join(", ", Enumerable.Range(0, Options).Select(i => $"@Chosen{i}::bigint[]"))})");
}
