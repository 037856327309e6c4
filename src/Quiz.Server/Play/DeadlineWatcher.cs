namespace Quiz.Server.Play;

/// <summary>
/// With rounds in Redis, deadlines are kept in one queue that every node watches: each poll claims
/// the rounds past their deadline (one node each) and finishes them, so a round ends at its deadline
/// exactly once whichever nodes are alive, and within a poll of it. A node that dies holding a claim
/// loses it after <see cref="Lease"/>, and another node finishes the round then.
/// </summary>
public sealed class DeadlineWatcher(RedisActiveRounds rounds, RoundService service, RoundsOptions options, TimeProvider clock,
    ILogger<DeadlineWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private long _polls;
    /// <summary>Polls completed, the rounds they found finished or given up: what "the watchers looked and found nothing" waits on.</summary>
    public long Polls => Interlocked.Read(ref _polls);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.DeadlinePoll, clock);
        var unreachable = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            string[] due;
            try
            {
                await rounds.ReleaseFinishedAsync();
                due = await rounds.ClaimDueAsync(clock.GetUtcNow(), Lease);
                if (unreachable) logger.LogInformation("Round deadlines are watched again");
                unreachable = false;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis away: the rounds past their deadline meanwhile are finished when it returns.
                if (!unreachable) logger.LogWarning("Round deadlines cannot be watched while Redis is unreachable: {Reason}", e.Message);
                unreachable = true;
                continue;
            }
            // Finished side by side: a round's finish waits on the store, not on the other rounds.
            await Task.WhenAll(due.Select(FinishAsync));
            Interlocked.Increment(ref _polls);
        }
    }

    /// <summary>One due round; a failure leaves it claimed until the lease ends, when a node tries again.</summary>
    private async Task FinishAsync(string roundId)
    {
        try
        {
            // Out of play (lost, or naming what no longer exists): nothing to finish, off the queue.
            if (!await service.FinishDueAsync(roundId)) await rounds.ForgetDeadlineAsync(roundId);
        }
        catch (Exception e)
        {
            logger.LogWarning("Round {Round} past its deadline could not be finished now; it is tried again in {Lease}: {Reason}", roundId, Lease, e.Message);
        }
    }
}
