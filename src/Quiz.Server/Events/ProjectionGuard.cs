using System.Data.Common;
using Dapper;

namespace Quiz.Server.Events;

/// <summary>
/// Makes a projection idempotent: it claims a result id inside its own transaction, so an event
/// delivered twice (retries, replays) is applied once.
/// </summary>
public static class ProjectionGuard
{
    /// <summary>False when this projection already applied this result.</summary>
    public static async Task<bool> ClaimAsync(DbConnection connection, DbTransaction tx, string projection, long resultId) =>
        await connection.ExecuteAsync(
            "INSERT INTO projection_applied (projection, result_id) VALUES (@projection, @resultId) ON CONFLICT DO NOTHING",
            new { projection, resultId }, tx) == 1;
}
