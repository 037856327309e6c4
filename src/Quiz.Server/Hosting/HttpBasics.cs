using System.Threading.RateLimiting;

namespace Quiz.Server.Hosting;

public static class HttpBasics
{
    /// <summary>
    /// The content root is the app's own folder, wherever the command was typed: appsettings.json
    /// (and, in a published copy, wwwroot) sit beside the binaries, so settings never depend on the
    /// working directory. Paths in settings (./data, question-bank) are still taken from the
    /// working directory, where the user typed the command (see RunWorkingDirectory in the csproj).
    /// It can only be chosen before the builder exists.
    /// </summary>
    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        ContentRootPath = AppContext.BaseDirectory,
    };

    /// <summary>Problem details for every error, enums as names, and the OpenAPI document.</summary>
    public static WebApplicationBuilder AddHttpBasics(this WebApplicationBuilder builder)
    {
        // The pages live in src/Quiz.Server/wwwroot, but a build runs from bin/: the build's
        // static-web-assets manifest points there. A published copy carries wwwroot beside its
        // binaries, the content root, instead.
        builder.WebHost.UseStaticWebAssets();
        // SQLite's ADO.NET provider does its I/O synchronously even behind async calls, so a burst
        // holds pool threads; start with enough of them instead of waiting for the pool to grow
        // (it adds about one a second). Setting Server:MinThreads (default 128).
        var minThreads = builder.Configuration.GetValue("Server:MinThreads", 128);
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, minThreads), io);
        // Kestrel hands each connection's reads and writes to the next stage on the same thread
        // instead of queueing a work item for it: a live session's question goes out on 10,000
        // WebSockets at once, one work item fewer a frame (BENCHMARKS.md, live sessions). Socket
        // completions still arrive on pool threads (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS is
        // not set), so a handler that blocks (SQLite) holds a pool thread, never the socket engine's.
        // Setting Server:InlineScheduling (default true).
        // The listen queue holds the connections the kernel has completed and Kestrel has not yet
        // accepted. Kestrel's default of 512 overflowed in the opening burst (1,000 new WebSockets a
        // second while both cores were busy: 2,600–9,900 overflows a run by `nstat
        // TcpExtListenOverflows`), and the kernel drops each connection past the queue, which then
        // waits a second or more for its retry (BENCHMARKS.md). The kernel caps the queue at
        // net.core.somaxconn (4,096 on current kernels). Setting Server:Backlog (default 4096).
        builder.WebHost.UseSockets(o =>
        {
            o.UnsafePreferInlineScheduling = builder.Configuration.GetValue("Server:InlineScheduling", true);
            o.Backlog = builder.Configuration.GetValue("Server:Backlog", 4096);
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddQuizOpenApi();
        builder.Services.AddEnumsAsStrings();
        builder.Services.AddSingleton<AddressLimits>();
        return builder;
    }

    /// <summary>
    /// <see cref="PartitionedRateLimiter{TResource}.AttemptAcquire"/>, tried again when the
    /// partition's limiter was disposed under the caller. The partitioned limiter disposes a
    /// partition idle for 10 s on its own timer, and a caller that had just looked that partition
    /// up gets an ObjectDisposedException (dotnet/runtime#99865): a start refused with a server
    /// error in a sustained load run, where each person starts a round about every 10 s (starts
    /// are now limited by <see cref="FixedWindows{TKey}"/>; the live hub's joins still use a
    /// token bucket). The partition is gone from the limiter by then, so the next attempt makes a
    /// fresh one.
    /// </summary>
    public static RateLimitLease AttemptAcquireRetried<T>(this PartitionedRateLimiter<T> limiter, T resource)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return limiter.AttemptAcquire(resource); }
            catch (ObjectDisposedException) when (attempt < 3) { }
        }
    }

    public static WebApplication UseHttpBasics(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/healthz", () => TypedResults.Text("ok")).WithTags("Health").ExcludeFromDescription();
        return app;
    }
}
