using MassTransit;

namespace Quiz.Server.Events;

public static class EventsExtensions
{
    /// <summary>MassTransit on its in-memory transport: RoundCompleted to the projections.</summary>
    public static IHostApplicationBuilder AddEvents(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.5 reports usage to usage-tracking.masstransit.io a few minutes after
            // start: a government platform's server does not talk to third parties unasked.
            bus.DisableUsageTelemetry();
            // Projections take finished rounds in batches: up to 500, or what came within 100 ms.
            bus.AddConsumer<UnitDailyStatsConsumer>(c => c.Options<BatchOptions>(Batches));
            bus.AddConsumer<QuestionStatsConsumer>(c => c.Options<BatchOptions>(Batches));
            bus.UsingInMemory((context, transport) =>
            {
                transport.UseMessageRetry(retry => retry.Intervals(100, 500, 2000));
                transport.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    private static void Batches(BatchOptions options) =>
        options.SetMessageLimit(500).SetTimeLimit(TimeSpan.FromMilliseconds(100)).SetConcurrencyLimit(1);
}
