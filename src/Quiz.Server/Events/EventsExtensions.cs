using MassTransit;

namespace Quiz.Server.Events;

public static class EventsExtensions
{
    /// <summary>MassTransit on its in-memory transport: RoundCompleted to the projections.</summary>
    public static IHostApplicationBuilder AddEvents(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddConsumer<UnitDailyStatsConsumer>();
            bus.AddConsumer<QuestionStatsConsumer>();
            bus.UsingInMemory((context, transport) =>
            {
                transport.UseMessageRetry(retry => retry.Intervals(100, 500, 2000));
                transport.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
