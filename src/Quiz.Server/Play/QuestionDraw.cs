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
    private sealed record Pool(List<StoredQuestion> All, Dictionary<string, List<StoredQuestion>> ByLevel);

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
            return new Pool(all, all.GroupBy(q => q.Question.Difficulty.ToString()).ToDictionary(g => g.Key, g => g.ToList()));
        });

    public async Task<List<DrawnQuestion>> DrawAsync(Stage stage, string track, IReadOnlySet<string> seen, Random random, CancellationToken ct = default,
        Scene? scene = null)
    {
        var (pool, byLevel) = PoolOf(await CurrentAsync(ct), stage.PoolFor(track, scene));
        if (pool.Count < stage.QuestionsPerRound) return [];

        var picked = new List<StoredQuestion>();
        if (stage.Difficulty.Count > 0)
        {
            foreach (var (level, count) in stage.Difficulty.OrderBy(d => d.Key))
                picked.AddRange(Pick(byLevel.GetValueOrDefault(level) ?? [], count, seen, stage.SpreadCategories, random));
            // A level with too few questions is topped up from the rest of the pool.
            if (picked.Count < stage.QuestionsPerRound)
                picked.AddRange(Pick(pool.Except(picked).ToList(), stage.QuestionsPerRound - picked.Count, seen, stage.SpreadCategories, random));
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

    /// <summary>Unseen questions first; within them, one per category in turn, so a round covers many topics.</summary>
    private static IEnumerable<StoredQuestion> Pick(List<StoredQuestion> candidates, int count, IReadOnlySet<string> seen, bool spread, Random random)
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
