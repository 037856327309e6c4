using System.Data.Common;
using Microsoft.AspNetCore.SignalR;

namespace Quiz.Server.Storage;

/// <summary>
/// A hub call that needed the store while it could not be reached (PostgreSQL stopped or
/// restarting, the network to it down, SQLite busy past its timeout) answers a clear error the client can act
/// on, "store-unavailable: ...", instead of SignalR's anonymous one. Nothing was acknowledged, and
/// a repeat is safe: a Finish is idempotent by its round id. The same holds for Redis when it holds
/// the rounds in play. Errors that a retry would not cure
/// (a constraint, a bug in a statement) stay what they are.
/// </summary>
public sealed class StoreUnavailableFilter(ILogger<StoreUnavailableFilter> logger) : IHubFilter
{
    public const string Code = "store-unavailable";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(context);
        }
        catch (DbException e) when (e.IsTransient || e is Npgsql.NpgsqlException and not Npgsql.PostgresException)
        {
            logger.LogWarning("Hub method {Hub}.{Method} could not reach the store: {Reason}", context.Hub.GetType().Name, context.HubMethodName, e.Message);
            throw new HubException($"{Code}: the store could not be reached, nothing is confirmed; try again shortly");
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or StackExchange.Redis.RedisTimeoutException)
        {
            // Rounds in play held in Redis (Rounds:Store = Redis), and Redis away.
            logger.LogWarning("Hub method {Hub}.{Method} could not reach the rounds in play: {Reason}", context.Hub.GetType().Name, context.HubMethodName, e.Message);
            throw new HubException($"{Code}: the rounds in play could not be reached, nothing is confirmed; try again shortly");
        }
    }
}
