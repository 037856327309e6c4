namespace Quiz.Ranking.Tests;

public class RedisRankingTests(RedisServerFixture redis) : RankingContract, IClassFixture<RedisServerFixture>
{
    protected override async Task<IRankingEngine> CreateEngineAsync() =>
        await RedisRankingEngine.ConnectAsync(redis.Configuration, time: Time);
}
