namespace Quiz.Ranking;

public static class RankingCatchUp
{
    /// <summary>
    /// Brings a campaign's boards back in line with the store after an outage: retries
    /// <see cref="IRankingEngine.CatchUpAsync"/> until the ranking store answers. Start it from
    /// <see cref="IRankingEngine.CatchUpNeeded"/>.
    /// </summary>
    public static async Task<RebuildReport> RunAsync(IRankingEngine engine, string campaignId,
        Func<long, IAsyncEnumerable<RoundFinished>> roundsAfter, TimeSpan retryDelay, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                return await engine.CatchUpAsync(campaignId, roundsAfter, cancellationToken);
            }
            catch (RankingUnavailableException)
            {
                await Task.Delay(retryDelay, cancellationToken);
            }
        }
    }
}
