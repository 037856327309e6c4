namespace Quiz.Ranking.Tests;

/// <summary>Builds rounds the way the store would hand them over, and acts as that store.</summary>
sealed class TestStore
{
    public static readonly DateTimeOffset Start = new(2025, 6, 12, 0, 0, 0, TimeSpan.FromHours(8));
    static long nextRoundId;

    public string Campaign { get; } = "t" + Guid.NewGuid().ToString("N")[..12];
    public List<RoundFinished> Rounds { get; } = [];

    public RoundFinished Round(long participant, int score, int durationMs = 60_000, double atSeconds = 0,
        AggregationRule rule = AggregationRule.BestOfAll, string stage = "main",
        string[]? path = null, string? org = "bank-1", string? orgType = "bank", int day = 0, string? group = null)
    {
        var at = Start.AddDays(day).AddSeconds(atSeconds);
        var round = new RoundFinished(Campaign, stage, rule, Interlocked.Increment(ref nextRoundId), participant, score, durationMs,
            at, DateOnly.FromDateTime(at.DateTime), path ?? ["11", "1101", "110101"], org, orgType, Start, group);
        lock (Rounds) Rounds.Add(round);
        return round;
    }

    public Func<long, IAsyncEnumerable<RoundFinished>> RoundsAfter => after => Stream(() => Snapshot().Where(r => r.RoundId > after).ToList());

    public IAsyncEnumerable<RoundFinished> All => Stream(Snapshot);

    List<RoundFinished> Snapshot()
    {
        lock (Rounds) return Rounds.OrderBy(r => r.RoundId).ToList();
    }

    static async IAsyncEnumerable<RoundFinished> Stream(Func<List<RoundFinished>> snapshot)
    {
        await Task.Yield();
        foreach (var r in snapshot()) yield return r;
    }
}
