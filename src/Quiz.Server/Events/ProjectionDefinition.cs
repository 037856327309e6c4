using MassTransit;

namespace Quiz.Server.Events;

/// <summary>
/// Transport policy of a projection's consumer: its queue (shared by every node, so each message
/// goes to one of them), how many messages a node takes at once, and retries. A message already
/// carries up to <see cref="CompletedRounds.MaxRounds"/> rounds, written in one transaction.
/// </summary>
public abstract class ProjectionDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    /// <summary>Messages a node works on at once: the store writer groups their transactions.</summary>
    private const int InFlight = 4;

    protected ProjectionDefinition(string name)
    {
        EndpointName = name;
        // RabbitMQ hands a node no more unacknowledged messages than this, so the rest wait for another node.
        Endpoint(endpoint =>
        {
            endpoint.PrefetchCount = 2 * InFlight;
            endpoint.ConcurrentMessageLimit = InFlight;
        });
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<TConsumer> consumer, IRegistrationContext context)
    {
        // A message that fails (the store busy or away) is tried again for ~18 s, long enough to
        // outlast a store that is only slow for a moment; one that still fails is left to the
        // catch-up from the store, which applies the same rounds later.
        endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 2000, 5000, 10000));
    }
}

public sealed class UnitDailyStatsConsumerDefinition() : ProjectionDefinition<UnitDailyStatsConsumer>(UnitDailyStatsConsumer.Name);

public sealed class QuestionStatsConsumerDefinition() : ProjectionDefinition<QuestionStatsConsumer>(QuestionStatsConsumer.Name);
