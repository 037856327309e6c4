using MassTransit;
using Quiz.Server.Campaigns;
using Quiz.Server.Questions;
using Quiz.Server.Units;

namespace Quiz.Server.Events;

/// <summary>What admins load, and every node serves from memory.</summary>
public enum ReferenceData { QuestionBank, Campaigns, Units }

/// <summary>An admin saved <paramref name="What"/> on the node <paramref name="Node"/> (a <see cref="ReferenceDataSync.Node"/>).</summary>
public sealed record ReferenceDataChanged(ReferenceData What, Guid Node);

/// <summary>
/// Keeps every node's copies of the reference data (the question bank's draw cache, the campaign
/// catalog, the unit directory) in step with the store. The node where an admin saved has
/// reloaded already; it then announces the change on the bus, and every other node reloads
/// exactly what the saving node did. Each node hears the announcement on a queue of its own
/// (<see cref="ConfigureEndpoint"/>), and reloads everything whenever that queue (re)connects, so
/// a node that was away from the broker while an admin saved, or that started while one did,
/// does not keep a stale copy.
/// </summary>
public sealed class ReferenceDataSync(
    IBus bus, QuestionBank bank, CampaignCatalog campaigns, UnitDirectory units, ILogger<ReferenceDataSync> logger)
{
    /// <summary>Admins wait a moment longer than a finish does: nothing else waits behind them.</summary>
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>This node, in this process. Not Server:NodeId: two servers in one test process share a host name.</summary>
    public Guid Node { get; } = Guid.NewGuid();

    /// <summary>
    /// After a save on this node: the other nodes reload. The save is committed and answered
    /// whatever happens here; a node that misses the event (the broker away) reloads everything
    /// when its queue connects again.
    /// </summary>
    public async Task AnnounceAsync(ReferenceData what)
    {
        try
        {
            // Not the request's token: an admin who closes the page after saving still updates every node.
            await bus.Publish(new ReferenceDataChanged(what, Node)).WaitAsync(PublishTimeout);
        }
        catch (Exception e)
        {
            logger.LogWarning("The other nodes were not told that {What} changed; they reload when they reconnect to the bus: {Reason}", what, e.Message);
        }
    }

    /// <summary>What the saving node reloads after its save, here on the others.</summary>
    public async Task ReloadAsync(ReferenceData what, CancellationToken ct = default)
    {
        switch (what)
        {
            case ReferenceData.QuestionBank: bank.Invalidate(); break;
            case ReferenceData.Campaigns: await campaigns.LoadAsync(ct); break;
            case ReferenceData.Units: await units.LoadAsync(ct); break;
            default: throw new ArgumentOutOfRangeException(nameof(what), what, "not reference data");
        }
        logger.LogInformation("{What} reloaded: changed on another node", what);
    }

    private async Task ReloadAllAsync()
    {
        try
        {
            bank.Invalidate();
            await units.LoadAsync();
            await campaigns.LoadAsync();
        }
        catch (Exception e)
        {
            logger.LogWarning("Reference data not reloaded after the bus connected; the next change reloads it: {Reason}", e.Message);
        }
    }

    /// <summary>
    /// A temporary queue of this node's own (auto-deleted when the node goes), so each
    /// announcement reaches every node rather than one of them as a shared queue would; on the
    /// in-memory bus, the one node's.
    /// </summary>
    public static void ConfigureEndpoint(IBusFactoryConfigurator transport, IBusRegistrationContext context)
    {
        transport.ReceiveEndpoint(new TemporaryEndpointDefinition(), endpoint =>
        {
            // A reload that fails (the store busy or away) is tried again; past that, the next
            // change or reconnection reloads. A temporary queue keeps no error queue behind it.
            endpoint.UseMessageRetry(retry => retry.Intervals(500, 2000, 5000));
            endpoint.DiscardFaultedMessages();
            endpoint.ConfigureConsumer<ReferenceDataChangedConsumer>(context);
            endpoint.ConnectReceiveEndpointObserver(new ReloadWhenConnected(context));
        });
    }

    /// <summary>Resolves the sync only once the queue is ready: while the bus is being built, the sync (which needs the bus) cannot be.</summary>
    private sealed class ReloadWhenConnected(IServiceProvider services) : IReceiveEndpointObserver
    {
        public Task Ready(ReceiveEndpointReady ready)
        {
            _ = Task.Run(services.GetRequiredService<ReferenceDataSync>().ReloadAllAsync);
            return Task.CompletedTask;
        }

        public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;
        public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;
        public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
    }
}

/// <summary>Reloads what another node's admin changed; this node's own announcements are skipped (it reloaded when it saved).</summary>
[ExcludeFromConfigureEndpoints]
public sealed class ReferenceDataChangedConsumer(ReferenceDataSync sync) : IConsumer<ReferenceDataChanged>
{
    public Task Consume(ConsumeContext<ReferenceDataChanged> context) =>
        context.Message.Node == sync.Node ? Task.CompletedTask : sync.ReloadAsync(context.Message.What, context.CancellationToken);
}
