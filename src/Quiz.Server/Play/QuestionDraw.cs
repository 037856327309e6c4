using Quiz.Server.Campaigns;
using Quiz.Server.Questions;

namespace Quiz.Server.Play;

/// <summary>One drawn question: the version played, and the order its options are shown in.</summary>
/// <param name="Order">Order[i] is the bank index of the option shown at position i.</param>
public sealed record DrawnQuestion(StoredQuestion Stored, int[] Order)
{
    public Question Question => Stored.Question;

    /// <summary>The right options as shown positions, ascending.</summary>
    public int[] ShownKey => Order.Select((bankIndex, shown) => (bankIndex, shown))
        .Where(p => Question.Answer.Contains((char)('A' + p.bankIndex))).Select(p => p.shown).ToArray();

    /// <summary>Shown positions → bank letters in bank order, e.g. [2, 0] → "AC".</summary>
    public string ToBankLetters(IEnumerable<int> shown) =>
        new(shown.Select(s => (char)('A' + Order[s])).Order().ToArray());
}

/// <summary>
/// Draws a round: random per attempt, from the stage's pool for the player's track, by the
/// stage's difficulty counts, spread over categories, no repeat inside a round, and avoiding the
/// questions this player has already seen while the pool allows. Options are shuffled per player.
/// </summary>
public sealed class QuestionDraw(QuestionBank bank)
{
    /// <summary>A pool for one list of tracks: its questions, and those of each difficulty level.</summary>
    private sealed record Pool(Candidates All, Dictionary<string, Candidates> ByLevel);

    /// <summary>Questions to draw from, grouped by category once per bank generation, so a draw need not walk them all.</summary>
    internal sealed class Candidates
    {
        public List<StoredQuestion> All { get; }
        public StoredQuestion[][] ByCategory { get; }
        /// <summary>Question id → its index in <see cref="ByCategory"/>.</summary>
        public Dictionary<string, int> CategoryOf { get; } = new(StringComparer.Ordinal);

        public Candidates(List<StoredQuestion> all)
        {
            All = all;
            var groups = all.GroupBy(q => q.Question.Category).Select(g => g.ToArray()).ToArray();
            ByCategory = groups;
            for (var k = 0; k < groups.Length; k++)
                foreach (var q in groups[k]) CategoryOf[q.Question.Id] = k;
        }
    }

    /// <summary>The bank's current versions and the pools built from them, for one bank generation.</summary>
    private sealed record Current(long Generation, IReadOnlyList<StoredQuestion> All, System.Collections.Concurrent.ConcurrentDictionary<string, Pool> Pools);

    private Current _current = new(-1, [], new());
    private readonly SemaphoreSlim _reload = new(1, 1);

    /// <summary>The bank's current versions, reloaded only after an import changed the bank.</summary>
    private async Task<Current> CurrentAsync(CancellationToken ct)
    {
        if (_current.Generation == bank.Generation) return _current;
        await _reload.WaitAsync(ct);
        try
        {
            var generation = bank.Generation;
            if (_current.Generation != generation) _current = new(generation, await bank.ListAsync(ct: ct), new());
            return _current;
        }
        finally { _reload.Release(); }
    }

    /// <summary>
    /// The questions of these tracks, filtered once per bank generation rather than once per start:
    /// in the opening burst every start filtered the whole bank (issue 12's profile: ~5 % of the server's CPU).
    /// </summary>
    private static Pool PoolOf(Current current, string[] tracks) =>
        current.Pools.GetOrAdd(string.Join('\n', tracks), _ =>
        {
            var all = current.All.Where(q => q.Question.Tracks.Any(tracks.Contains)).ToList();
            return new Pool(new Candidates(all), all.GroupBy(q => q.Question.Difficulty.ToString()).ToDictionary(g => g.Key, g => new Candidates(g.ToList())));
        });

    public async Task<List<DrawnQuestion>> DrawAsync(Stage stage, string track, IReadOnlySet<string> seen, Random random, CancellationToken ct = default,
        Scene? scene = null)
    {
        var (pool, byLevel) = PoolOf(await CurrentAsync(ct), stage.PoolFor(track, scene));
        if (pool.All.Count < stage.QuestionsPerRound) return [];

        var picked = new List<StoredQuestion>();
        if (stage.Difficulty.Count > 0)
        {
            foreach (var (level, count) in stage.Difficulty.OrderBy(d => d.Key))
                if (byLevel.GetValueOrDefault(level) is { } candidates) picked.AddRange(Pick(candidates, count, seen, stage.SpreadCategories, random));
            // A level with too few questions is topped up from the rest of the pool.
            if (picked.Count < stage.QuestionsPerRound)
                picked.AddRange(PickByScan(pool.All.Except(picked).ToList(), stage.QuestionsPerRound - picked.Count, seen, stage.SpreadCategories, random));
        }
        else picked.AddRange(Pick(pool, stage.QuestionsPerRound, seen, stage.SpreadCategories, random));

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(picked));
        return picked.Select(q =>
        {
            var order = Enumerable.Range(0, q.Question.Options.Count).ToArray();
            // True/false keeps 正确 before 错误: shuffling two fixed words only confuses.
            if (q.Question.Type != QuestionTypes.TrueFalse) random.Shuffle(order);
            return new DrawnQuestion(q, order);
        }).ToList();
    }

    /// <summary>
    /// What <see cref="PickByScan"/> draws, with the same chances, in time that grows with the
    /// round rather than the pool: the scan shuffled the whole pool at every start (issue 12's
    /// profile of sustained play: ~40 µs a start, 3 % of the server's CPU, at 500 questions).
    /// <para>
    /// The scan takes the categories in the order they first appear in a shuffled pool of unseen
    /// questions, which is the order of drawing categories one after another, each with a chance
    /// proportional to its unseen questions; then one question of each in turn, each a uniform draw
    /// among those left. Here both are drawn directly. When fewer unseen questions remain than the
    /// round needs, the scan's own rules (seen questions after, categories not yet used first) apply.
    /// </para>
    /// </summary>
    internal static List<StoredQuestion> Pick(Candidates candidates, int count, IReadOnlySet<string> seen, bool spread, Random random)
    {
        var groups = candidates.ByCategory;
        Span<int> unseen = groups.Length <= 64 ? stackalloc int[groups.Length] : new int[groups.Length];
        var total = 0;
        for (var k = 0; k < groups.Length; k++) total += unseen[k] = groups[k].Length;
        foreach (var id in seen)
            if (candidates.CategoryOf.TryGetValue(id, out var k)) { unseen[k]--; total--; }
        if (total < count) return PickByScan(candidates.All, count, seen, spread, random);

        var result = new List<StoredQuestion>(count);
        if (!spread)
        {
            // Uniform draws among the unseen; a pool mostly seen falls back to the scan.
            for (var attempts = 0; result.Count < count && attempts < 32 * count; attempts++)
            {
                var q = candidates.All[random.Next(candidates.All.Count)];
                if (!seen.Contains(q.Question.Id) && !result.Contains(q)) result.Add(q);
            }
            return result.Count == count ? result : PickByScan(candidates.All, count, seen, spread, random);
        }

        // The categories' order: each next one drawn with a chance proportional to its unseen questions.
        Span<int> order = groups.Length <= 64 ? stackalloc int[groups.Length] : new int[groups.Length];
        Span<int> weight = groups.Length <= 64 ? stackalloc int[groups.Length] : new int[groups.Length];
        unseen.CopyTo(weight);
        var categories = 0;
        for (var left = total; left > 0; categories++)
        {
            var ticket = random.Next(left);
            var k = 0;
            while (ticket >= weight[k]) ticket -= weight[k++];
            order[categories] = k;
            left -= weight[k];
            weight[k] = 0;
        }
        // One question of each category in turn, as long as a category has unseen ones left.
        for (var turn = 0; result.Count < count; turn++)
            for (var i = 0; i < categories && result.Count < count; i++)
                if (unseen[order[i]] > turn) result.Add(UnseenOf(groups[order[i]], seen, result, random));
        return result;
    }

    /// <summary>A uniform draw among a category's questions neither seen nor already in the round (at least one is).</summary>
    private static StoredQuestion UnseenOf(StoredQuestion[] group, IReadOnlySet<string> seen, List<StoredQuestion> taken, Random random)
    {
        for (var attempts = 0; attempts < 16; attempts++)
        {
            var q = group[random.Next(group.Length)];
            if (!seen.Contains(q.Question.Id) && !taken.Contains(q)) return q;
        }
        var left = group.Where(q => !seen.Contains(q.Question.Id) && !taken.Contains(q)).ToArray();
        return left[random.Next(left.Length)];
    }

    /// <summary>Unseen questions first; within them, one per category in turn, so a round covers many topics.</summary>
    internal static List<StoredQuestion> PickByScan(List<StoredQuestion> candidates, int count, IReadOnlySet<string> seen, bool spread, Random random)
    {
        var result = new List<StoredQuestion>(count);
        foreach (var group in new[] { candidates.Where(q => !seen.Contains(q.Question.Id)), candidates.Where(q => seen.Contains(q.Question.Id)) })
        {
            var shuffled = group.ToArray();
            random.Shuffle(shuffled);
            if (!spread)
            {
                result.AddRange(shuffled.Take(count - result.Count));
            }
            else
            {
                var byCategory = shuffled.GroupBy(q => q.Question.Category).Select(g => new Queue<StoredQuestion>(g)).ToList();
                var usedCategories = result.Select(q => q.Question.Category).ToHashSet();
                // Categories not yet in the round go first.
                byCategory = byCategory.OrderBy(q => usedCategories.Contains(q.Peek().Question.Category) ? 1 : 0).ToList();
                while (result.Count < count && byCategory.Count > 0)
                {
                    foreach (var queue in byCategory.ToList())
                    {
                        if (result.Count == count) break;
                        result.Add(queue.Dequeue());
                        if (queue.Count == 0) byCategory.Remove(queue);
                    }
                }
            }
            if (result.Count == count) break;
        }
        return result;
    }
}
