using System.Collections.Concurrent;

namespace Quiz.Server.Hosting;

/// <summary>
/// Limits per client address on single endpoints (registration, login): a fixed window of a
/// minute (<see cref="FixedWindows{TKey}"/>), and a refusal is a 429 that says when to come back
/// (RFC 9110 Retry-After), so well-behaved clients and proxies wait instead of hammering. In place
/// of ASP.NET Core's rate-limiting middleware, whose partitioned limiter has the race of
/// dotnet/runtime#99865 (a partition disposed by its idle sweep under a caller, answered with a
/// server error) and walks every partition ten times a second.
/// </summary>
public sealed class AddressLimits(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, FixedWindows<string>> _byEndpoint = new(StringComparer.Ordinal);

    /// <summary>The limits named <paramref name="name"/>; its permits are read once, when it is first used.</summary>
    public FixedWindows<string> For(string name, Func<int> permitsPerMinute) =>
        _byEndpoint.GetOrAdd(name, _ => new FixedWindows<string>(permitsPerMinute(), TimeSpan.FromMinutes(1), clock));
}

public static class AddressLimitExtensions
{
    /// <summary>At most <paramref name="permitsPerMinute"/> calls a minute from one client address (behind the forwarded-headers middleware, the client's own).</summary>
    public static RouteHandlerBuilder LimitPerAddress(this RouteHandlerBuilder endpoint, string name, Func<IServiceProvider, int> permitsPerMinute) =>
        endpoint.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var limits = http.RequestServices.GetRequiredService<AddressLimits>().For(name, () => permitsPerMinute(http.RequestServices));
            if (limits.TryAcquire(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", out var retryAfter)) return await next(context);
            http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.StatusCode(StatusCodes.Status429TooManyRequests);
        });
}
