using Quiz.Ranking;
using Quiz.Server.Questions;

namespace Quiz.Server.Campaigns;

/// <summary>One stage of a campaign: its dates and every rule of play.</summary>
public sealed record Stage
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    /// <summary>First and last campaign day of the stage, both included.</summary>
    public required DateOnly StartDay { get; init; }
    public required DateOnly EndDay { get; init; }
    /// <summary>Time of day ("HH:mm", the campaign's offset) the stage opens on its first day; none = 00:00.</summary>
    public string? OpensAt { get; init; }
    /// <summary>Time of day ("HH:mm", "24:00" = the midnight after) the stage closes on its last day; none = 24:00.</summary>
    public string? ClosesAt { get; init; }

    public int QuestionsPerRound { get; init; } = 5;
    /// <summary>Time for the whole round; with only <see cref="QuestionSeconds"/>, it is that times the count.</summary>
    public int? RoundSeconds { get; init; }
    /// <summary>Time for each answer, counted from the round's start or the previous answer; a late answer scores nothing.</summary>
    public int? QuestionSeconds { get; init; }

    public int AttemptsPerDay { get; init; } = 3;
    public Points Points { get; init; } = new();
    public MultipleScoring MultipleScoring { get; init; } = MultipleScoring.AllOrNothing;
    public Aggregation Aggregation { get; init; } = Aggregation.Best;
    /// <summary>The order after score. Only one is supported: shorter duration, then earlier finish.</summary>
    public string TieBreak { get; init; } = "duration-then-finish";

    /// <summary>
    /// Which question tracks each participant track draws from. A track not listed draws from
    /// its own questions and the general ones.
    /// </summary>
    public IReadOnlyDictionary<string, string[]> Pools { get; init; } = new Dictionary<string, string[]>();

    /// <summary>
    /// Scenes the participant picks from when starting a round (2024: campus, workplace, city,
    /// countryside), each with its own pool, which replaces <see cref="Pools"/>. With scenes, a start
    /// must name one, and a person plays one scene a day (the day's attempts are shared).
    /// </summary>
    public IReadOnlyList<Scene> Scenes { get; init; } = [];

    public Scene? Scene(string id) => Scenes?.FirstOrDefault(s => s?.Id == id);

    /// <summary>How many questions of each difficulty (1, 2, 3) a round draws; empty = any mix.</summary>
    public IReadOnlyDictionary<string, int> Difficulty { get; init; } = new Dictionary<string, int>();
    /// <summary>Spread a round over as many categories as the pool allows.</summary>
    public bool SpreadCategories { get; init; } = true;

    /// <summary>Show the key and the explanation right after each answer.</summary>
    public bool ShowAnswers { get; init; } = true;
    /// <summary>Answers faster than this flag the round for admins (bots answer instantly).</summary>
    public int MinAnswerMs { get; init; } = 800;

    /// <summary>
    /// When starts are allowed: from <see cref="OpensAt"/> on the first day to <see cref="ClosesAt"/>
    /// on the last, without a break in between. A round started before the close runs to its deadline.
    /// </summary>
    public (DateTimeOffset Opens, DateTimeOffset Closes) Window(TimeSpan offset) =>
        (new DateTimeOffset(StartDay.ToDateTime(TimeOnly.MinValue), offset) + (TimeOfDay(OpensAt) ?? TimeSpan.Zero),
         new DateTimeOffset(EndDay.ToDateTime(TimeOnly.MinValue), offset) + (TimeOfDay(ClosesAt) ?? TimeSpan.FromDays(1)));

    public bool IsOpenAt(DateTimeOffset instant, TimeSpan offset)
    {
        var (opens, closes) = Window(offset);
        return opens <= instant && instant < closes;
    }

    /// <summary>"HH:mm" from 00:00 to 24:00 as a time since midnight; null when absent or malformed (Validate names it).</summary>
    private static TimeSpan? TimeOfDay(string? text) =>
        text is { Length: 5 } && text[2] == ':' && int.TryParse(text.AsSpan(0, 2), System.Globalization.NumberStyles.None, null, out var h)
        && int.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.None, null, out var m) && m < 60 && (h < 24 || h == 24 && m == 0)
            ? new TimeSpan(h, m, 0) : null;

    public TimeSpan RoundTime => TimeSpan.FromSeconds(RoundSeconds ?? QuestionSeconds!.Value * QuestionsPerRound);

    public int MaxScore(IEnumerable<string> types) => types.Sum(Points.For);

    /// <summary>The question tracks a round draws from: the scene's pool, else the participant's track's.</summary>
    public string[] PoolFor(string track, Scene? scene) => scene?.Pool ?? PoolFor(track);

    public string[] PoolFor(string track) =>
        Pools.TryGetValue(track, out var pool) ? pool : track == "general" ? ["general"] : [track, "general"];

    public AggregationRule Rule => Aggregation switch
    {
        Aggregation.BestOfDaySummed => AggregationRule.BestOfDaySummed,
        Aggregation.Sum => AggregationRule.Sum,
        Aggregation.BestPerSceneSummed => AggregationRule.BestPerGroupSummed,
        _ => AggregationRule.BestOfAll,
    };

    public IEnumerable<string> Validate()
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(Id ?? "", "^[a-z0-9-]{1,40}$")) yield return "id: lower-case letters, digits and '-'";
        if (string.IsNullOrWhiteSpace(Name)) yield return "name: required";
        if (EndDay < StartDay) yield return "endDay: before startDay";
        if (OpensAt is not null && TimeOfDay(OpensAt) is null) yield return "opensAt: a time of day like \"10:00\"";
        if (ClosesAt is not null && TimeOfDay(ClosesAt) is null) yield return "closesAt: a time of day like \"20:00\" (\"24:00\" = midnight)";
        else if (EndDay >= StartDay && Window(TimeSpan.Zero) is var (opens, closes) && closes <= opens) yield return "closesAt: not after opensAt on a one-day stage";
        if (QuestionsPerRound is < 1 or > 50) yield return "questionsPerRound: 1 to 50";
        if (RoundSeconds is null && QuestionSeconds is null) yield return "roundSeconds or questionSeconds: at least one";
        if (RoundSeconds is < 10 or > 3600) yield return "roundSeconds: 10 to 3600";
        if (QuestionSeconds is < 3 or > 600) yield return "questionSeconds: 3 to 600";
        if (AttemptsPerDay is < 1 or > 100) yield return "attemptsPerDay: 1 to 100";
        if (Points is null || Points.Single < 0 || Points.Multiple < 0 || Points.TrueFalse < 0) yield return "points: whole numbers, 0 or more";
        if (Points is not null && QuestionsPerRound * Math.Max(Points.Single, Math.Max(Points.Multiple, Points.TrueFalse)) > RankScore.MaxScore)
            yield return $"points: a round may score at most {RankScore.MaxScore}";
        if (TieBreak != "duration-then-finish") yield return "tieBreak: only 'duration-then-finish' is supported";
        foreach (var (track, pool) in Pools ?? new Dictionary<string, string[]>())
        {
            if (!Tracks.All.Contains(track)) yield return $"pools: '{track}' is not a track";
            if (pool is not { Length: > 0 } || pool.Any(t => !Tracks.All.Contains(t))) yield return $"pools.{track}: one or more of {string.Join(", ", Tracks.All)}";
        }
        if (Scenes is null) yield return "scenes: a list (empty for none)";
        foreach (var duplicate in (Scenes ?? []).GroupBy(s => s?.Id).Where(g => g.Count() > 1)) yield return $"scenes: id '{duplicate.Key}' is used twice";
        foreach (var scene in Scenes ?? [])
        {
            if (scene is null || !System.Text.RegularExpressions.Regex.IsMatch(scene.Id ?? "", "^[a-z0-9-]{1,40}$")) yield return "scenes: each id of lower-case letters, digits and '-', at most 40";
            else if (string.IsNullOrWhiteSpace(scene.Name) || scene.Name.Length > 40) yield return $"scenes[{scene.Id}].name: 1 to 40 characters";
            else if (scene.Pool is not { Length: > 0 } || scene.Pool.Any(t => !Tracks.All.Contains(t))) yield return $"scenes[{scene.Id}].pool: one or more of {string.Join(", ", Tracks.All)}";
        }
        if (Aggregation == Aggregation.BestPerSceneSummed && Scenes is not { Count: > 0 }) yield return "aggregation: best-per-scene-summed needs scenes";
        if (Difficulty is { Count: > 0 })
        {
            if (Difficulty.Keys.Any(k => k is not ("1" or "2" or "3")) || Difficulty.Values.Any(v => v < 0))
                yield return "difficulty: counts for \"1\", \"2\", \"3\"";
            else if (Difficulty.Values.Sum() != QuestionsPerRound)
                yield return $"difficulty: the counts add up to {Difficulty.Values.Sum()}, not questionsPerRound ({QuestionsPerRound})";
        }
        if (MinAnswerMs is < 0 or > 60_000) yield return "minAnswerMs: 0 to 60000";
    }
}

/// <summary>A scene a participant may pick for a round: its id (sent with StartRound), its name, and the question tracks it draws from.</summary>
public sealed record Scene(string Id, string Name, string[] Pool);
