using Microsoft.AspNetCore.SignalR;
using OpenTelemetry.Metrics;

namespace Quiz.Server.Diagnostics;

public static class DiagnosticsExtensions
{
    public static IHostApplicationBuilder AddDiagnostics(this IHostApplicationBuilder builder)
    {
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
