using System.Data.Common;
using Microsoft.AspNetCore.SignalR;

namespace Quiz.Server.Storage;

/// <summary>
/// A hub call that needed the store while it could not be reached (PostgreSQL stopped, the
/// network to it down, the SQLite file locked or full) answers a clear error the client can act
/// on, "store-unavailable: ...", instead of SignalR's anonymous one. Nothing was acknowledged, and
/// a repeat is safe: a Finish is idempotent by its round id.
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
        catch (DbException e)
        {
            logger.LogWarning("Hub method {Hub}.{Method} could not reach the store: {Reason}", context.Hub.GetType().Name, context.HubMethodName, e.Message);
            throw new HubException($"{Code}: the store could not be reached, nothing is confirmed; try again shortly");
        }
    }
}
