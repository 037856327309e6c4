using MassTransit;

namespace Quiz.Server.Events;

public static class EventsExtensions
{
    /// <summary>
    /// MassTransit on the transport <c>Bus:Transport</c> names (in-memory, or RabbitMQ shared by
    /// every node): finished rounds (RoundsCompleted, many a message) to the projections, which also
    /// catch up from the store, and ReferenceDataChanged to every node's caches.
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
            bus.AddConsumer<ReferenceDataChangedConsumer>();
            if (options.Transport == BusTransport.RabbitMq)
                bus.UsingRabbitMq((context, transport) =>
                {
                    // Publisher confirms: a publish completes once the broker holds the event.
                    transport.Host(new Uri(options.RabbitMq), host => host.PublisherConfirmation = true);
                    transport.ConfigureEndpoints(context);
                    ReferenceDataSync.ConfigureEndpoint(transport, context);
                });
            else
                bus.UsingInMemory((context, transport) =>
                {
                    transport.ConfigureEndpoints(context);
                    ReferenceDataSync.ConfigureEndpoint(transport, context);
                });
        });
        // A node asked to stop (SIGTERM, as a rolling deploy asks) must exit within the host's 30 s
        // (Hosting/BoundedRun.cs holds that even when these bounds do not, as after a broker bounce).
        // MassTransit's stop otherwise waits without a bound: for a projection message in its ~18 s of
        // retries, and for receive endpoints still reconnecting after a broker bounce (its disposal
        // after the host's stop passes no token at all). A message cut short loses nothing: its
        // rounds are in the store, and the catch-up applies what no projection recorded (the
        // projections' watermarks keep a round from counting twice).
        builder.Services.AddOptions<MassTransitHostOptions>().Configure(host =>
        {
            host.ConsumerStopTimeout = TimeSpan.FromSeconds(5);
            host.StopTimeout = TimeSpan.FromSeconds(15);
        });
        builder.Services.AddSingleton<CompletedRounds>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CompletedRounds>());
        builder.Services.AddSingleton<ReferenceDataSync>();
        builder.Services.AddHostedService<ProjectionCatchUp>();
        builder.Services.AddHostedService<BusWarmup>();
        return builder;
    }
}
