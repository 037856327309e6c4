using System.Data.Common;
using System.Text.Json;
using Dapper;

namespace Quiz.Server.Events;

/// <summary>
/// Makes a projection idempotent: it claims result ids inside its own transaction, so an event
/// delivered twice (retries, replays, the catch-up from the store) is applied once. A result at or
/// below the projection's watermark is applied already (its claim may have been deleted since).
/// </summary>
public static class ProjectionGuard
{
    /// <summary>
    /// The rounds of <paramref name="rounds"/> this projection had not applied yet, now claimed, in
    /// one statement (SQLite claimed them one by one: 16 statements a projection and bus message
    /// of 16 rounds; BENCHMARKS.md, "The projections' statements folded").
    /// </summary>
    public static async Task<List<T>> ClaimAsync<T>(DbConnection connection, DbTransaction tx, string projection, IReadOnlyList<T> rounds, Func<T, long> resultId)
    {
        var ids = rounds.Select(resultId).Distinct().ToArray();
        // PostgreSQL takes the ids as an array; SQLite, which has none, as a JSON array.
        var (from, arg) = connection is Npgsql.NpgsqlConnection ? ("unnest(@ids) AS id", (object)ids) : ("(SELECT value AS id FROM json_each(@ids))", JsonSerializer.Serialize(ids));
        var claimed = (await connection.QueryAsync<long>($"""
            INSERT INTO projection_applied (projection, result_id)
            SELECT @projection, id FROM {from}
            WHERE id > COALESCE((SELECT result_id FROM projection_watermarks WHERE projection = @projection), 0)
            ON CONFLICT DO NOTHING RETURNING result_id
            """, new { projection, ids = arg }, tx)).ToHashSet();
        // A result twice in one batch (an event and its redelivery) is applied once.
        return rounds.Where(r => claimed.Remove(resultId(r))).ToList();
    }

    /// <summary>Where the projection's watermark stands in the store (0 before its first).</summary>
    public static async Task<long> WatermarkAsync(DbConnection connection, string projection) =>
        await connection.ExecuteScalarAsync<long?>("SELECT result_id FROM projection_watermarks WHERE projection = @projection", new { projection }) ?? 0;

    /// <summary>
    /// Moves the watermark up to <paramref name="through"/> (never down: another node may be
    /// further) and deletes the claims it makes unneeded.
    /// </summary>
    public static async Task AdvanceAsync(DbConnection connection, DbTransaction tx, string projection, long through)
    {
        await connection.ExecuteAsync("""
            INSERT INTO projection_watermarks (projection, result_id) VALUES (@projection, @through)
            ON CONFLICT (projection) DO UPDATE SET result_id = excluded.result_id WHERE projection_watermarks.result_id < excluded.result_id;
            DELETE FROM projection_applied WHERE projection = @projection
              AND result_id <= (SELECT result_id FROM projection_watermarks WHERE projection = @projection);
            """, new { projection, through }, tx);
    }
}
