using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.SignalR;

namespace Quiz.Server.Diagnostics;

/// <summary>
/// The platform's own instruments (meter "Quiz.Server"), exported at /metrics in Prometheus format:
/// what the opening burst loads, and where a finish spends its time.
/// </summary>
public sealed class QuizMetrics
{
    public const string MeterName = "Quiz.Server";
    private readonly Meter _meter;

    /// <summary>From the host's meter factory, so two servers in one process (tests) never mix their counts.</summary>
    public QuizMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        Connections = _meter.CreateUpDownCounter<long>("quiz.connections", description: "Open SignalR connections, all hubs.");
        RoundsStarted = _meter.CreateCounter<long>("quiz.rounds.started");
        Answers = _meter.CreateCounter<long>("quiz.answers");
        Finishes = _meter.CreateCounter<long>("quiz.finishes");
        FinishDuration = _meter.CreateHistogram<double>("quiz.finish.duration", "ms", "Finish: commit, ranking and publish, as the player waits for it.");
        StoreCommit = _meter.CreateHistogram<double>("quiz.store.commit.duration", "ms", "One group commit of rounds.");
        StoreBatchSize = _meter.CreateHistogram<long>("quiz.store.batch_size", description: "Writes committed together in one transaction.");
        StoreFlush = _meter.CreateHistogram<double>("quiz.store.commit.flush.duration", "ms", "The COMMIT of a group transaction alone: the WAL's fsync.");
        StoreCpu = _meter.CreateHistogram<double>("quiz.store.commit.cpu", "ms",
            "CPU time the writer's thread used for one group commit (SQLite, where a batch runs on one thread); against quiz.store.commit.duration it shows the time spent waiting for a core.");
        StoreRunQueue = _meter.CreateHistogram<double>("quiz.store.commit.runqueue", "ms",
            "Time the writer's thread spent runnable but waiting for a core during one group commit (SQLite; Linux schedstat).");
        StoreGcPause = _meter.CreateHistogram<double>("quiz.store.commit.gc_pause", "ms",
            "Time the runtime's garbage collections paused the process during one group commit.");
        RankingUpdate = _meter.CreateHistogram<double>("quiz.ranking.update.duration", "ms", "A finish's ranking update with its rank returned.");
        RankPending = _meter.CreateCounter<long>("quiz.ranking.pending", description: "Finishes answered with the rank pending (ranking unreachable).");
        ProjectedRounds = _meter.CreateCounter<long>("quiz.projection.rounds",
            description: "Finished rounds a projection took from the bus, tagged projection and outcome: applied, or duplicate (applied before: a redelivery or a replay, skipped).");
    }

    /// <summary>This server's meter, for a test's MeterListener to tell its counts from another server's in the same process.</summary>
    internal Meter Meter => _meter;

    public UpDownCounter<long> Connections { get; }
    public Counter<long> RoundsStarted { get; }
    public Counter<long> Answers { get; }
    public Counter<long> Finishes { get; }
    public Histogram<double> FinishDuration { get; }
    public Histogram<double> StoreCommit { get; }
    public Histogram<long> StoreBatchSize { get; }
    public Histogram<double> StoreFlush { get; }
    public Histogram<double> StoreCpu { get; }
    public Histogram<double> StoreRunQueue { get; }
    public Histogram<double> StoreGcPause { get; }
    public Histogram<double> RankingUpdate { get; }
    public Counter<long> RankPending { get; }
    public Counter<long> ProjectedRounds { get; }

    /// <summary>What one projection did with one message's rounds, counted once its transaction has committed.</summary>
    public void Projected(string projection, int received, int applied)
    {
        ProjectedRounds.Add(applied, new KeyValuePair<string, object?>("projection", projection), new KeyValuePair<string, object?>("outcome", "applied"));
        if (received > applied)
            ProjectedRounds.Add(received - applied, new KeyValuePair<string, object?>("projection", projection), new KeyValuePair<string, object?>("outcome", "duplicate"));
    }
}

/// <summary>Counts connections on every hub, so the figure includes dashboards and the echo baseline.</summary>
public sealed class ConnectionCounter(QuizMetrics metrics) : IHubFilter
{
    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        await next(context);
        metrics.Connections.Add(1);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        metrics.Connections.Add(-1);
        await next(context, exception);
    }
}

/// <summary>
/// Hub errors that are part of the protocol (HubException: no attempts left, deadline passed,
/// a missing argument…) are answers, not failures: under a burst, or from a client sending
/// garbage, they must not flood the log. They get one line at Debug, without a stack trace; only
/// unexpected exceptions are logged as errors. SignalR's own dispatcher log, which logs both with
/// stack traces, is turned off in <see cref="DiagnosticsExtensions.AddDiagnostics"/>.
/// </summary>
public sealed class HubErrorLog(ILogger<HubErrorLog> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(context);
        }
        catch (HubException e)
        {
            logger.LogDebug("Hub call {Hub}.{Method} refused: {Reason}", context.Hub.GetType().Name, context.HubMethodName, e.Message);
            throw;
        }
        catch (Exception e) when (!context.Context.ConnectionAborted.IsCancellationRequested)
        {
            logger.LogError(e, "Hub method {Hub}.{Method} failed", context.Hub.GetType().Name, context.HubMethodName);
            throw;
        }
    }
}
