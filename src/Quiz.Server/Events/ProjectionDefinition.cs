using MassTransit;

namespace Quiz.Server.Events;

/// <summary>
/// Transport policy of a projection's consumer: its queue (shared by every node, so each event goes
/// to one of them), finished rounds in batches, how many a node takes at once, and retries.
/// </summary>
public abstract class ProjectionDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    /// <summary>Up to 500 rounds, or what came within 100 ms, in one transaction.</summary>
    private const int BatchSize = 500;

    protected ProjectionDefinition(string name)
    {
        EndpointName = name;
        // Two batches' worth on the way: the next batch fills while one is written. RabbitMQ hands
        // a node no more unacknowledged events than this, so the rest wait for another node.
        Endpoint(endpoint =>
        {
            endpoint.PrefetchCount = 2 * BatchSize;
            endpoint.ConcurrentMessageLimit = 2 * BatchSize;
        });
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<TConsumer> consumer, IRegistrationContext context)
    {
        // A batch that fails (the store busy or away) is tried again; one that still fails is left
        // to the catch-up from the store, which applies the same rounds later.
        endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 2000));
        consumer.Options<BatchOptions>(batch => batch.SetMessageLimit(BatchSize).SetTimeLimit(TimeSpan.FromMilliseconds(100)).SetConcurrencyLimit(1));
    }
}

public sealed class UnitDailyStatsConsumerDefinition() : ProjectionDefinition<UnitDailyStatsConsumer>(UnitDailyStatsConsumer.Name);

public sealed class QuestionStatsConsumerDefinition() : ProjectionDefinition<QuestionStatsConsumer>(QuestionStatsConsumer.Name);
