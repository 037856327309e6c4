using Quiz.Ranking;

namespace Quiz.RankingBench;

/// <summary>
/// A synthetic national campaign: 31 provinces, 341 cities, 3,069 counties, 200 organisations of
/// 5 types; round i is a pure function of i, so the "store" streams any range of rounds with
/// constant memory (rebuild) and every engine sees identical data.
/// </summary>
sealed class Campaign(string id, int participants)
{
    public static readonly DateTimeOffset Start = new(2025, 6, 12, 10, 0, 0, TimeSpan.FromHours(8));
    static readonly TimeSpan Window = TimeSpan.FromDays(7);
    static readonly string[] OrganisationTypes = ["bank", "university", "insurer", "securities", "enterprise"];

    public string Id { get; } = id;
    public int Participants { get; } = participants;
    public readonly string[][] Counties = BuildCounties();
    public readonly string[] Organisations = Enumerable.Range(0, 200).Select(o => $"org{o:000}").ToArray();

    static string[][] BuildCounties() =>
        (from p in Enumerable.Range(11, 31)
         from c in Enumerable.Range(1, 11)
         from k in Enumerable.Range(1, 9)
         select new[] { $"{p}", $"{p}{c:00}", $"{p}{c:00}{k:00}" }).ToArray();

    /// <summary>Round ids 1..participants: each person's first round; later ids: a second round of person (id − participants).</summary>
    public RoundFinished Round(long roundId, long totalRounds)
    {
        var person = (roundId - 1) % Participants + 1;
        var h = Mix((ulong)roundId);
        var ph = Mix((ulong)person * 0x9E3779B97F4A7C15UL);
        var at = Start + Window * ((double)roundId / (totalRounds + 1));
        var hasOrganisation = ph % 10 < 8;
        var organisation = (int)(ph / 10 % 200);
        return new RoundFinished(Id, "main", AggregationRule.BestOfAll, roundId, person,
            Score: (int)(h % 101), DurationMs: 20_000 + (int)(h / 101 % 160_000), at, DateOnly.FromDateTime(at.DateTime),
            Counties[(int)(ph / 2000 % (ulong)Counties.Length)],
            hasOrganisation ? Organisations[organisation] : null,
            hasOrganisation ? OrganisationTypes[organisation % OrganisationTypes.Length] : null,
            Start);
    }

    public async IAsyncEnumerable<RoundFinished> RoundsAfter(long after, long total)
    {
        for (var id = after + 1; id <= total; id++)
        {
            yield return Round(id, total);
            if (id % 4096 == 0) await Task.Yield();
        }
    }

    static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
