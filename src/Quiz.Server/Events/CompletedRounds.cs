using System.Threading.Channels;
using MassTransit;
using Quiz.Server.Play;

namespace Quiz.Server.Events;

/// <summary>
/// Publishes finished rounds for the projections, many to a message (<see cref="RoundsCompleted"/>).
/// A finish hands its round over once it is committed and ranked, and replies without waiting for
/// the bus: what is handed over but never published (the process died, the broker was away) is
/// applied by <see cref="ProjectionCatchUp"/> from the store, as a failed publish always was.
/// <para>
/// Why: the bus costs per message. At saturation (issue 12's profile of `loadtests/run.sh
/// baseline`) publishing and consuming one RoundCompleted a round on the in-memory bus was 18.5 %
/// of the server's CPU, more than the store writer's statements; and on RabbitMQ each finish
/// waited for the broker's confirm before its reply.
/// </para>
/// </summary>
public sealed class CompletedRounds(IBus bus, ILogger<CompletedRounds> logger) : BackgroundService
{
    /// <summary>
    /// At most this many rounds a message. The in-memory bus serialises a message to JSON too, and
    /// each consumer parses it again: 200 rounds (~270 KB) made the text and the parser's buffers
    /// large objects, which count towards a full collection (two or three background gen-2
    /// collections in every opening burst, BENCHMARKS.md). 16 of the longest rounds are under
    /// 40 KB, and what a message costs the bus is still shared by 16.
    /// </summary>
    public const int MaxRounds = 16;

    /// <summary>How long the first round of a message waits for others.</summary>
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(10);

    private readonly Channel<RoundCompleted> _queue = Channel.CreateBounded<RoundCompleted>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private long _pending;

    /// <summary>Rounds handed over and not yet published (or given up on): what a publish of the bus is still to carry.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Hands a committed round over for publishing; never waits. A full queue drops it (the catch-up applies it).</summary>
    public void Add(RoundCompleted round)
    {
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(round)) return;
        Interlocked.Decrement(ref _pending);
        logger.LogWarning("The queue of rounds to publish is full; round {Round} is left to the catch-up from the store", round.RoundId);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var rounds = new List<RoundCompleted>(MaxRounds);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(Gather, stoppingToken);
                while (_queue.Reader.TryRead(out var round))
                {
                    rounds.Add(round);
                    if (rounds.Count == MaxRounds) await PublishAsync(rounds);
                }
                if (rounds.Count > 0) await PublishAsync(rounds);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is queued still goes out, bounded by the publish timeout.
            while (_queue.Reader.TryRead(out var round)) rounds.Add(round);
            foreach (var chunk in rounds.Chunk(MaxRounds)) await PublishAsync([.. chunk]);
        }
    }

    private async Task PublishAsync(List<RoundCompleted> rounds)
    {
        try
        {
            using var publishing = new CancellationTokenSource(BusOptions.PublishTimeout); // the broker may be away: the store has the rounds
            await bus.Publish(new RoundsCompleted([.. rounds]), publishing.Token);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Publishing {Count} finished rounds failed; the projections catch them up from the store", rounds.Count);
        }
        Interlocked.Add(ref _pending, -rounds.Count);
        rounds.Clear();
    }
}
