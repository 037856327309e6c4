using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Quiz.Server.Hosting;

namespace Quiz.Server.Diagnostics;

/// <summary>Section "Diagnostics": who may read /metrics.</summary>
public sealed record DiagnosticsOptions
{
    public const string Section = "Diagnostics";

    /// <summary>
    /// False (the default): /metrics answers admins only (X-Admin-Key or an admin's login), since it
    /// tells anyone how busy the platform is and how it is built. True: anyone, for a Prometheus
    /// behind a firewall that keeps /metrics internal.
    /// </summary>
    public bool MetricsPublic { get; init; }

    /// <summary>
    /// Extra listening URLs for /metrics alone, e.g. http://127.0.0.1:9100 (a fixed port): there it
    /// needs no key, and the main URLs no longer serve it. Separated by ';'.
    /// </summary>
    public string? MetricsUrls { get; init; }

    public IReadOnlyList<string> MetricsUrlList => (MetricsUrls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void Validate()
    {
        foreach (var url in MetricsUrlList)
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"Diagnostics:MetricsUrls: '{url}' is not an http:// or https:// URL.");
    }
}

public static class DiagnosticsExtensions
{
    /// <summary>SignalR's dispatcher logs every refused call as an error with its stack trace; <see cref="HubErrorLog"/> logs them instead.</summary>
    public const string HubDispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    public static IHostApplicationBuilder AddDiagnostics(this WebApplicationBuilder builder)
    {
        // In code, not only in appsettings.json: 100,000 garbage hub calls made 132 MB of stack
        // traces when the settings file was not found. A rule added here outranks the settings'.
        builder.Logging.AddFilter(HubDispatcherCategory, LogLevel.None);
        builder.Services.RedactLogs();

        builder.AddSettings<DiagnosticsOptions>(DiagnosticsOptions.Section, o => o.Validate());
        var metricsUrls = builder.Configuration.GetSection(DiagnosticsOptions.Section).Get<DiagnosticsOptions>()?.MetricsUrlList ?? [];
        if (metricsUrls.Count > 0)
        {
            // The metrics listener comes on top of the platform's own URLs (--urls, Urls in appsettings.json).
            var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured ? configured : "http://localhost:5000";
            builder.WebHost.UseUrls([.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries), .. metricsUrls]);
        }

        builder.Services.AddSingleton<QuizMetrics>();
        builder.Services.AddSingleton<ConnectionCounter>();
        builder.Services.AddSingleton<HubErrorLog>();
        builder.Services.Configure<HubOptions>(options =>
        {
            options.AddFilter<ConnectionCounter>();
            options.AddFilter<HubErrorLog>();
        });
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(QuizMetrics.MeterName)
            .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections")
            .AddMeter("System.Runtime")
            .AddPrometheusExporter());
        return builder;
    }

    /// <summary>/metrics for Prometheus, and /hubs/echo: the SignalR ceiling of this box, for load tests to compare against.</summary>
    public static WebApplication MapDiagnostics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<DiagnosticsOptions>>().Value;
        var metrics = app.MapPrometheusScrapingEndpoint("/metrics");
        if (options.MetricsUrlList.Count > 0)
        {
            // Told apart by the port a request came in on, never by its Host header (the caller's choice).
            var ports = options.MetricsUrlList.Select(url => BindingAddress.Parse(url).Port).ToHashSet();
            metrics.RequireAuthorization(policy => policy.RequireAssertion(context =>
                context.Resource is HttpContext http && ports.Contains(http.Connection.LocalPort)));
            // The metrics port serves /metrics and nothing else of the platform.
            app.Use((context, next) =>
            {
                if (!ports.Contains(context.Connection.LocalPort) || context.Request.Path.Equals("/metrics", StringComparison.OrdinalIgnoreCase)) return next(context);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        }
        else if (!options.MetricsPublic)
        {
            metrics.RequireAuthorization(Security.Access.AdminPolicy);
        }
        app.MapHub<EchoHub>("/hubs/echo");
        return app;
    }
}

/// <summary>The baseline: the same server and pipeline doing no work at all.</summary>
public sealed class EchoHub : Hub
{
    public string Echo(string message) => message;
}
