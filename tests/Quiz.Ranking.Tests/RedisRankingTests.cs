namespace Quiz.Ranking.Tests;

public class RedisRankingTests(RedisServerFixture redis) : RankingContract, IClassFixture<RedisServerFixture>
{
    // The contract is about what the boards hold. The bound on a player's wait (a finish answers
    // "pending" after 200 ms) is the server's concern and is tested there (RankingFaultTests); on a
    // busy test machine a burst of 2,000 finishes would otherwise cross it.
    protected override async Task<IRankingEngine> CreateEngineAsync() =>
        await RedisRankingEngine.ConnectAsync(redis.Configuration,
            new RankingOptions { Engine = "Redis", FinishTimeout = TimeSpan.FromMinutes(1), ReadTimeout = TimeSpan.FromMinutes(1) }, Time);
}
