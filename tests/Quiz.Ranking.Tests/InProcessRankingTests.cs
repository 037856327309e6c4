namespace Quiz.Ranking.Tests;

public class InProcessRankingTests : RankingContract
{
    protected override Task<IRankingEngine> CreateEngineAsync() =>
        Task.FromResult<IRankingEngine>(new InProcessRankingEngine(time: Time));
}
