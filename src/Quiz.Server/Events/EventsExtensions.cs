using MassTransit;

namespace Quiz.Server.Events;

public static class EventsExtensions
{
    /// <summary>
    /// MassTransit on the transport <c>Bus:Transport</c> names (in-memory, or RabbitMQ shared by
    /// every node): finished rounds (RoundsCompleted, many a message) to the projections, which also
    /// catch up from the store.
    /// </summary>
    public static IHostApplicationBuilder AddEvents(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();
        options.Validate();
        builder.Services.AddSingleton(options);
        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.5 reports usage to usage-tracking.masstransit.io a few minutes after
            // start: a government platform's server does not talk to third parties unasked.
            bus.DisableUsageTelemetry();
            bus.AddConsumer<UnitDailyStatsConsumer, UnitDailyStatsConsumerDefinition>();
            bus.AddConsumer<QuestionStatsConsumer, QuestionStatsConsumerDefinition>();
            if (options.Transport == BusTransport.RabbitMq)
                bus.UsingRabbitMq((context, transport) =>
                {
                    // Publisher confirms: a publish completes once the broker holds the event.
                    transport.Host(new Uri(options.RabbitMq), host => host.PublisherConfirmation = true);
                    transport.ConfigureEndpoints(context);
                });
            else
                bus.UsingInMemory((context, transport) => transport.ConfigureEndpoints(context));
        });
        builder.Services.AddSingleton<CompletedRounds>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CompletedRounds>());
        builder.Services.AddHostedService<ProjectionCatchUp>();
        builder.Services.AddHostedService<BusWarmup>();
        return builder;
    }
}
