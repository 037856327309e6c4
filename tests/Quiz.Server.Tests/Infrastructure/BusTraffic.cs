using MassTransit;
using Quiz.Server.Play;

namespace Quiz.Server.Tests.Infrastructure;

/// <summary>
/// Counts what the nodes' buses publish and what their projection endpoints finish receiving, so a
/// test can wait until every event (and every copy of it) has been consumed, instead of sleeping.
/// </summary>
public sealed class BusTraffic
{
    private long _published, _rounds, _faults;
    public List<Node> Nodes { get; } = [];
    private readonly List<Quiz.Server.Events.CompletedRounds> _publishers = [];

    /// <summary>Two projections consume every RoundsCompleted.</summary>
    public const int Projections = 2;

    /// <summary>Messages published (each carries one or more finished rounds).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Finished rounds published, counted inside the messages.</summary>
    public long RoundsPublished => Interlocked.Read(ref _rounds);
    public long Received => Nodes.Sum(n => n.Received);
    public long Faults => Interlocked.Read(ref _faults);

    public void Watch(IBus bus, Quiz.Server.Events.CompletedRounds publisher)
    {
        _publishers.Add(publisher);
        var node = new Node(this);
        bus.ConnectPublishObserver(node);
        bus.ConnectReceiveObserver(node);
        Nodes.Add(node);
    }

    /// <summary>
    /// Waits until every published message was received by both projections (on any node), and
    /// nothing more arrived for a moment. More may arrive than was counted as published: a
    /// finish's publish that the broker confirmed after the finish stopped waiting (half a second)
    /// is delivered all the same, and delivery is at least once. The projections' guard is what
    /// makes that harmless, and the tests check it by comparing the projections with the store.
    /// </summary>
    public async Task DrainedAsync(TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        // Finishes hand their rounds to a publisher that sends them a moment later: first, until it has.
        while (_publishers.Any(p => p.Pending > 0) && DateTime.UtcNow < deadline) await Task.Delay(20);
        while (Received < Projections * Published && Faults == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        for (var seen = -1L; seen != Received && Faults == 0 && DateTime.UtcNow < deadline; await Task.Delay(300)) seen = Received;
        Assert.Equal(0, Faults);
        Assert.True(Received >= Projections * Published, $"{Received} deliveries for {Published} events published to {Projections} projections");
    }

    public sealed class Node(BusTraffic traffic) : IPublishObserver, IReceiveObserver
    {
        private long _received;
        public long Received => Interlocked.Read(ref _received);

        public Task PostPublish<T>(PublishContext<T> context) where T : class
        {
            if (context.Message is RoundsCompleted completed)
            {
                Interlocked.Increment(ref traffic._published);
                Interlocked.Add(ref traffic._rounds, completed.Rounds.Count);
            }
            return Task.CompletedTask;
        }

        public Task PostReceive(ReceiveContext context)
        {
            Interlocked.Increment(ref _received);
            return Task.CompletedTask;
        }

        public Task ReceiveFault(ReceiveContext context, Exception exception)
        {
            Interlocked.Increment(ref traffic._faults);
            return Task.CompletedTask;
        }

        public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;
        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
        public Task PreReceive(ReceiveContext context) => Task.CompletedTask;
        public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;
        public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;
    }
}
