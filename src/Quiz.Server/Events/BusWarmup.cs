using System.Text.Json;
using MassTransit;
using Quiz.Server.Play;

namespace Quiz.Server.Events;

/// <summary>
/// Readies the publish path of finished rounds before the first player finishes. Left cold, the
/// opening burst's first hundred finishes all wait together for MassTransit to build the send
/// endpoint and for System.Text.Json to build the message's serialization metadata (both done once,
/// under a lock): in a profiled 2,000-player burst 85 publishes ran past their half-second and were
/// left to the catch-up, and 18 % of the server's thread time was spent blocked in that lock.
/// Nothing is published here.
/// </summary>
public sealed class BusWarmup(IBus bus, ILogger<BusWarmup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var sample = new RoundsCompleted([new RoundCompleted(0, "warm-up", "warm-up", "main", 0, DateOnly.MinValue, 0, 0, 0, DateTimeOffset.UnixEpoch,
                ["000000"], null, null, false, false, [new CompletedAnswer("warm-up", 1, "A", true)])]);
            JsonSerializer.SerializeToUtf8Bytes(sample, MassTransit.Serialization.SystemTextJsonMessageSerializer.Options);
            await bus.GetPublishSendEndpoint<RoundsCompleted>().WaitAsync(TimeSpan.FromSeconds(10), stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The broker may be away at start-up: the first finishes then warm it themselves.
            logger.LogInformation("The bus was not warmed up at start-up: {Reason}", e.Message);
        }
    }
}
