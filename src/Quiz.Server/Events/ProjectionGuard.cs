using System.Data.Common;
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
    /// The rounds of <paramref name="rounds"/> this projection had not applied yet, now claimed.
    /// On PostgreSQL one statement claims them all (a round trip each would be the batch's main
    /// cost); SQLite runs in this process and claims them one by one.
    /// </summary>
    public static async Task<List<T>> ClaimAsync<T>(DbConnection connection, DbTransaction tx, string projection, IReadOnlyList<T> rounds, Func<T, long> resultId)
    {
        if (connection is Npgsql.NpgsqlConnection)
        {
            var claimed = (await connection.QueryAsync<long>("""
                INSERT INTO projection_applied (projection, result_id)
                SELECT @projection, id FROM unnest(@ids) AS id
                WHERE id > COALESCE((SELECT result_id FROM projection_watermarks WHERE projection = @projection), 0)
                ON CONFLICT DO NOTHING RETURNING result_id
                """, new { projection, ids = rounds.Select(resultId).Distinct().ToArray() }, tx)).ToHashSet();
            // A result twice in one batch (an event and its redelivery) is applied once.
            return rounds.Where(r => claimed.Remove(resultId(r))).ToList();
        }
        var fresh = new List<T>();
        foreach (var round in rounds)
            if (await connection.ExecuteAsync(
                    """
                    INSERT INTO projection_applied (projection, result_id)
                    SELECT @projection, @id WHERE @id > COALESCE((SELECT result_id FROM projection_watermarks WHERE projection = @projection), 0)
                    ON CONFLICT DO NOTHING
                    """,
                    new { projection, id = resultId(round) }, tx) == 1)
                fresh.Add(round);
        return fresh;
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
