namespace Quiz.Server.Events;

public enum BusTransport { InMemory, RabbitMq }

/// <summary>How events travel between the nodes and the projections. Bound from the "Bus" section.</summary>
public sealed record BusOptions
{
    public const string Section = "Bus";

    /// <summary><c>InMemory</c> (one node, the embedded run) or <c>RabbitMq</c> (every node publishes to and consumes from one broker).</summary>
    public BusTransport Transport { get; init; } = BusTransport.InMemory;

    /// <summary>The broker as an AMQP URI, with its user and password.</summary>
    public string RabbitMq { get; init; } = "amqp://guest:guest@localhost:5672/";

    /// <summary>
    /// How often the projections look for finished rounds whose event never came (a node killed
    /// between commit and publish, the broker down) and apply them from the store. A round is
    /// caught up once it has been in the store for a whole interval: an event has that long to
    /// arrive first.
    /// </summary>
    public TimeSpan CatchUpInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest a finish waits for the broker to take its event. Past it the finish answers
    /// anyway (the round is already in the store) and the projections catch the round up.
    /// </summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromMilliseconds(500);

    public void Validate()
    {
        if (Transport == BusTransport.RabbitMq
            && (!Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps")))
            throw new InvalidOperationException("Bus:RabbitMq must be an amqp:// or amqps:// URI.");
        if (CatchUpInterval < TimeSpan.FromMilliseconds(100) || CatchUpInterval > TimeSpan.FromHours(1))
            throw new InvalidOperationException("Bus:CatchUpInterval must be 00:00:00.1 to 01:00:00.");
    }
}
