using Microsoft.AspNetCore.SignalR;
using OpenTelemetry.Metrics;

namespace Quiz.Server.Diagnostics;

public static class DiagnosticsExtensions
{
    /// <summary>SignalR's dispatcher logs every refused call as an error with its stack trace; <see cref="HubErrorLog"/> logs them instead.</summary>
    public const string HubDispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    public static IHostApplicationBuilder AddDiagnostics(this IHostApplicationBuilder builder)
    {
        // In code, not only in appsettings.json: 100,000 garbage hub calls made 132 MB of stack
        // traces when the settings file was not found. A rule added here outranks the settings'.
        builder.Logging.AddFilter(HubDispatcherCategory, LogLevel.None);
        builder.Services.RedactLogs();
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
    public static IEndpointRouteBuilder MapDiagnostics(this IEndpointRouteBuilder routes)
    {
        routes.MapPrometheusScrapingEndpoint("/metrics");
        routes.MapHub<EchoHub>("/hubs/echo");
        return routes;
    }
}

/// <summary>The baseline: the same server and pipeline doing no work at all.</summary>
public sealed class EchoHub : Hub
{
    public string Echo(string message) => message;
}
