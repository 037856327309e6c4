namespace Quiz.Ranking.Tests;

/// <summary>
/// The in-memory board's tree against the obvious model (a sorted list), through enough members
/// and removals that leaves and inner nodes split, merge and the root grows and shrinks.
/// </summary>
public sealed class SortedBoardTests
{
    /// <summary>The model: (value desc, participant asc) in a list kept sorted.</summary>
    sealed class Model
    {
        public readonly List<(long Value, long Id)> Members = [];
        public readonly Dictionary<long, long> Values = [];

        static readonly Comparer<(long Value, long Id)> Order = Comparer<(long Value, long Id)>.Create(
            (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : a.Id.CompareTo(b.Id));

        public int IndexOf((long, long) m) => Members.BinarySearch(m, Order);

        public void Set(long id, long value)
        {
            if (Values.TryGetValue(id, out var old)) Members.RemoveAt(IndexOf((old, id)));
            Values[id] = value;
            Members.Insert(~IndexOf((value, id)), (value, id));
        }

        public long RankOf(long value) => Members.Count(m => m.Value > value) + 1;
    }

    static void Set(SortedBoard board, Model model, long id, long value)
    {
        board.Set(id, model.Values.TryGetValue(id, out var old) ? old : null, value);
        model.Set(id, value);
    }

    static void AssertSame(SortedBoard board, Model model)
    {
        board.CheckInvariants();
        Assert.Equal(model.Members.Count, board.Count);
        Assert.Equal(model.Members.Select(m => (m.Id, m.Value)), board.All());
    }

    [Fact]
    public void ManyUpdatesKeepOrderPositionsAndRanksOfTheModel()
    {
        var random = new Random(20261205);
        var board = new SortedBoard();
        var model = new Model();
        // Values from a small range, so that ties are common and rank differs from position.
        for (var op = 0; op < 60_000; op++)
        {
            var id = random.Next(1, 20_000);
            var value = model.Values.TryGetValue(id, out var old) && random.Next(4) > 0
                ? old + random.Next(1, 50)   // the usual update: a better score
                : random.Next(0, 3_000);
            Set(board, model, id, value);

            if (op % 97 == 0)
            {
                var probe = random.Next(-10, 4_000);
                Assert.Equal(model.RankOf(probe), board.RankOf(probe));
                var (v, i) = model.Members[random.Next(model.Members.Count)];
                Assert.Equal(model.IndexOf((v, i)), board.PositionOf(i, v));
                Assert.True(board.PositionOf(i, v + 1) < 0, "a member is not found under another value");
            }
            if (op % 5_000 == 0) AssertSame(board, model);
        }
        AssertSame(board, model);
        Assert.True(board.Count > 10_000, "the tree is several levels deep");
    }

    [Fact]
    public void RangesCarryPositionsAndSharedRanks()
    {
        var random = new Random(7);
        var board = new SortedBoard();
        var model = new Model();
        for (var id = 1; id <= 9_000; id++) Set(board, model, id, random.Next(0, 500));

        foreach (var (start, count) in new[] { (0, 10), (0, 100), (63, 130), (4_000, 257), (8_990, 50), (9_000, 5), (-3, 4) })
        {
            var range = board.Range(start, count);
            var expected = model.Members.Skip(Math.Max(0, start)).Take(count).ToList();
            Assert.Equal(expected.Select(m => m.Id), range.Select(e => e.ParticipantId));
            Assert.Equal(expected.Select(m => m.Value), range.Select(e => e.Value));
            Assert.Equal(expected.Select(m => model.RankOf(m.Value)), range.Select(e => e.Rank));
        }
    }

    [Fact]
    public void ALargeBoardDrainedAndRegrownKeepsTheModelsOrder()
    {
        // Enough members for three levels of inner nodes, so that inner nodes split and, as the
        // board drains, merge; a sorted set is the model here (a list would shift too much).
        var random = new Random(11);
        var board = new SortedBoard();
        var model = new SortedSet<(long Value, long Id)>(Comparer<(long Value, long Id)>.Create(
            (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : a.Id.CompareTo(b.Id)));
        var values = new Dictionary<long, long>();
        void Check()
        {
            var expected = model.ToList();
            board.CheckInvariants();
            Assert.Equal(expected.Count, board.Count);
            Assert.Equal(expected.Select(m => (m.Id, m.Value)), board.All());
            for (var k = 0; k < 50 && expected.Count > 0; k++)
            {
                var at = random.Next(expected.Count);
                Assert.Equal(at, board.PositionOf(expected[at].Id, expected[at].Value));
                var greater = expected.FindIndex(m => m.Value <= expected[at].Value);
                Assert.Equal(greater + 1, board.RankOf(expected[at].Value));
            }
        }
        void Put(long id, long value)
        {
            board.Set(id, values.TryGetValue(id, out var old) ? old : null, value);
            if (values.ContainsKey(id)) model.Remove((old, id));
            model.Add((value, id));
            values[id] = value;
        }
        void Drop(long id)
        {
            board.RemoveMember(id, values[id]);
            model.Remove((values[id], id));
            values.Remove(id);
        }

        for (var id = 1; id <= 200_000; id++) Put(id, random.Next(0, 50_000));
        Check();
        var ids = values.Keys.OrderBy(_ => random.Next()).ToList();
        for (var n = 0; n < ids.Count; n++)
        {
            Drop(ids[n]);
            if (n % 1_000 == 0) board.CheckInvariants();
            if (n % 4 == 0) Put(1_000_000 + n, random.Next(0, 50_000));   // a few arrive as most leave
            if (n % 20_000 == 0) Check();
        }
        Check();
        foreach (var id in values.Keys.ToList()) Drop(id);
        Check();
        Assert.Equal(1, board.RankOf(42));
        for (var id = 1; id <= 30_000; id++) Put(id, id % 37);
        Check();
    }

    [Fact]
    public void SettingTheSameValueAgainChangesNothing()
    {
        var board = new SortedBoard();
        board.Set(1, null, 10);
        board.Set(2, null, 10);
        board.Set(1, 10, 10);
        Assert.Equal(2, board.Count);
        Assert.Equal([(1L, 10L), (2L, 10L)], board.All());
        Assert.Equal(1, board.RankOf(10));
        Assert.Equal(3, board.RankOf(9));
    }
}
