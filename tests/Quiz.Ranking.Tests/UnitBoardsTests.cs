namespace Quiz.Ranking.Tests;

/// <summary>
/// The unit boards' arithmetic: leaves' figures rolled up to every level, joined with headcount
/// bases, ranked. (Where the leaves' figures come from, the store's daily statistics, is tested by
/// the server's UnitStandingsTests.)
/// </summary>
public sealed class UnitBoardsTests
{
    /// <summary>The leaves' figures the obvious way: distinct people, rounds and points per leaf.</summary>
    static Dictionary<string, Tally> Leaves(IEnumerable<RoundFinished> rounds)
    {
        var leaves = new Dictionary<string, Tally>();
        foreach (var group in rounds.SelectMany(r => new[] { (Leaf: UnitBoards.RegionLeaf(r.RegionPath), Round: r) }
                     .Concat(r.OrganisationId is { } o ? [(UnitBoards.OrganisationLeaf(o, r.OrganisationType), r)] : []))
                     .GroupBy(x => x.Leaf))
            leaves[group.Key] = new Tally(group.Select(x => x.Round.ParticipantId).Distinct().Count(), group.Count(), group.Sum(x => (long)x.Round.Score));
        return leaves;
    }

    [Fact]
    public void UnitBoardsRollUpCountsAndRates()
    {
        var s = new TestStore();
        UnitBase[] bases = [
            new(UnitLevel.County, "110101", "1101", 10), new(UnitLevel.County, "110102", "1101", 30),
            new(UnitLevel.City, "1101", "11", 0), new(UnitLevel.Province, "11", null, 0),
            new(UnitLevel.County, "110103", "1101", 5)];
        s.Round(1, 4, path: ["11", "1101", "110101"]);
        s.Round(1, 2, path: ["11", "1101", "110101"], atSeconds: 10);
        var day1 = s.Round(2, 5, path: ["11", "1101", "110102"], day: 1);
        var boards = new UnitBoards(Leaves(s.Rounds), bases);

        var board = boards.Board(UnitLevel.County, UnitMetric.ParticipationRate, null, 10);
        Assert.Equal(["110101", "110102", "110103"], board.Select(u => u.Code));
        Assert.Equal([0.1, 1 / 30.0, 0], board.Select(u => u.ParticipationRate));
        var city = boards.Find(UnitLevel.City, UnitMetric.Points, "1101");
        Assert.Equal((2L, 45L, 3L, 11L, 5.5), (city!.Participants, city.Headcount, city.Rounds, city.Points, city.AveragePoints));
        var oneDay = new UnitBoards(Leaves(s.Rounds.Where(r => r.Day == day1.Day)), bases).Find(UnitLevel.County, UnitMetric.ParticipationRate, "110102");
        Assert.Equal((1L, 1L, 1L), (oneDay!.Participants, oneDay.SiblingRank, oneDay.NationalRank));
        Assert.Equal(2, boards.Find(UnitLevel.OrganisationType, UnitMetric.Participants, "bank")!.Participants);
    }

    [Fact]
    public void RollUpsMatchABruteForceModelOnRandomData()
    {
        var s = new TestStore();
        var random = new Random(20250615);
        var people = Enumerable.Range(1, 150).Select(p => (
            Id: (long)p,
            Path: new[] { $"p{random.Next(3)}", "", "" },
            Org: random.Next(4) == 0 ? null : $"o{random.Next(5)}")).Select(p =>
            {
                p.Path[1] = p.Path[0] + $"c{random.Next(2)}";
                p.Path[2] = p.Path[1] + $"k{random.Next(3)}";
                return p;
            }).ToList();
        var bases = people.Select(p => p.Path[2]).Distinct().Select(k => new UnitBase(UnitLevel.County, k, k[..^2], random.Next(1, 100))).ToList();
        for (var i = 0; i < 600; i++)
        {
            var p = people[random.Next(people.Count)];
            s.Round(p.Id, random.Next(0, 101), random.Next(1_000, 180_000), i * 300.0, path: p.Path, org: p.Org,
                orgType: p.Org is null ? null : "t" + p.Org[^1] % 2);
        }

        foreach (var day in s.Rounds.Select(r => (DateOnly?)r.Day).Distinct().Prepend(null))
        {
            var rounds = s.Rounds.Where(r => day is null || r.Day == day).ToList();
            var boards = new UnitBoards(Leaves(rounds), bases);
            foreach (var level in Enum.GetValues<UnitLevel>())
            {
                var expected = BruteForce.Units(rounds, level, bases);
                var board = boards.Board(level, UnitMetric.Participants, null, 1000);
                foreach (var (code, e) in expected)
                {
                    var actual = board.Single(u => u.Code == code);
                    Assert.Equal(e, (actual.Participants, actual.Rounds, actual.Points, actual.Headcount));
                    Assert.Equal(e.Headcount > 0 ? (double)e.Participants / e.Headcount : 0, actual.ParticipationRate, 12);
                }
                Assert.Equal(expected.Count, board.Count(u => u.Rounds > 0));
            }
        }
    }
}
