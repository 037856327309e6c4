using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Quiz.Server.Hosting;

/// <summary>
/// Limits per client address on single endpoints (registration, login): a fixed window of a
/// minute, and a refusal is a 429 that says when to come back (RFC 9110 Retry-After), so
/// well-behaved clients and proxies wait instead of hammering. In place of ASP.NET Core's
/// rate-limiting middleware, whose partitioned limiter has the race of dotnet/runtime#99865 (a
/// partition disposed by its idle sweep under a caller) and would answer it with a server error:
/// these acquire through <see cref="HttpBasics.AttemptAcquireRetried{T}"/>.
/// </summary>
public sealed class AddressLimits : IDisposable
{
    private readonly ConcurrentDictionary<string, PartitionedRateLimiter<string>> _byEndpoint = new(StringComparer.Ordinal);

    /// <summary>The limiter named <paramref name="name"/>; its permits are read once, when it is first used.</summary>
    public PartitionedRateLimiter<string> For(string name, Func<int> permitsPerMinute) =>
        _byEndpoint.GetOrAdd(name, _ =>
        {
            var permits = permitsPerMinute();
            return PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
                _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });

    public void Dispose()
    {
        foreach (var limiter in _byEndpoint.Values) limiter.Dispose();
    }
}

public static class AddressLimitExtensions
{
    /// <summary>At most <paramref name="permitsPerMinute"/> calls a minute from one client address (behind the forwarded-headers middleware, the client's own).</summary>
    public static RouteHandlerBuilder LimitPerAddress(this RouteHandlerBuilder endpoint, string name, Func<IServiceProvider, int> permitsPerMinute) =>
        endpoint.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var limiter = http.RequestServices.GetRequiredService<AddressLimits>().For(name, () => permitsPerMinute(http.RequestServices));
            using var lease = limiter.AttemptAcquireRetried(http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            if (lease.IsAcquired) return await next(context);
            http.Response.Headers.RetryAfter = HttpBasics.RetryAfterSeconds(lease, TimeSpan.FromMinutes(1)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.StatusCode(StatusCodes.Status429TooManyRequests);
        });
}
