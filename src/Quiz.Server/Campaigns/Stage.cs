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
    /// countryside; 2025: four roles), each with its own pool, which replaces <see cref="Pools"/>.
    /// With scenes, a start must name one; the day's attempts are shared by all scenes.
    /// </summary>
    public IReadOnlyList<Scene> Scenes { get; init; } = [];

    /// <summary>
    /// A person plays one scene a day (2024); false lets them play any scene any time (2025's
    /// roles). True by default, so definitions written before the setting keep their rule.
    /// </summary>
    public bool OneScenePerDay { get; init; } = true;

    /// <summary>
    /// Each scene is a ladder (2025's roles): a right answer climbs the person's step in it, a
    /// wrong or unanswered one drops it (never below 0), and a round with every answer right
    /// rescues the scene for good. Kept per person and scene for the whole campaign.
    /// </summary>
    public bool Ladder { get; init; }

    /// <summary>
    /// What a round with every answer right scores instead of the sum of its points (2025's
    /// flowers: 10 for a perfect round, else 1 a right answer); none = the sum always.
    /// </summary>
    public int? PerfectRoundScore { get; init; }

    /// <summary>
    /// Whether persons are ranked: false (2025) means no personal board is shown (a round's reply
    /// carries no ranks, the personal ranking endpoints answer 404); units are still ranked.
    /// </summary>
    public bool PersonalRanking { get; init; } = true;

    /// <summary>Points besides the rounds' score (2025: +1 for a completed profile, +2 an invited friend who plays, +10 a day's learning task).</summary>
    public BonusPoints BonusPoints { get; init; } = new();

    /// <summary>Extra attempts the inviter gets, on the day an invited friend finishes their first round (2025: 1).</summary>
    public int InvitationAttempts { get; init; }

    /// <summary>The daily learning task's items: day n of the stage shows item n (cycling through the list).</summary>
    public IReadOnlyList<LearningItem> Learning { get; init; } = [];

    /// <summary>Prize tiers reached by totals rather than by rank (2025): a tier is reached when the score and the points both reach its minimums.</summary>
    public IReadOnlyList<PrizeTier> Prizes { get; init; } = [];

    /// <summary>The learning item of a campaign day of this stage, if the stage has any.</summary>
    public LearningItem? LearningOn(DateOnly day) =>
        Learning is { Count: > 0 } items && day >= StartDay && day <= EndDay ? items[(day.DayNumber - StartDay.DayNumber) % items.Count] : null;

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

    public int MaxScore(IEnumerable<string> types) => Math.Max(types.Sum(Points.For), PerfectRoundScore ?? 0);

    /// <summary>A round's score: the perfect-round score when every answer is right and the stage has one, else the sum of its points.</summary>
    public int RoundScore(int points, int correct, int questions) =>
        PerfectRoundScore is { } perfect && questions > 0 && correct == questions ? perfect : points;

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
        if (Ladder && Scenes is not { Count: > 0 }) yield return "ladder: needs scenes (each scene is a ladder)";
        if (PerfectRoundScore is < 0 or > RankScore.MaxScore) yield return $"perfectRoundScore: 0 to {RankScore.MaxScore}";
        if (BonusPoints is null || BonusPoints.Profile is < 0 or > 1000 || BonusPoints.Invitation is < 0 or > 1000 || BonusPoints.LearningTask is < 0 or > 1000)
            yield return "bonusPoints: profile, invitation and learningTask, each 0 to 1000";
        if (InvitationAttempts is < 0 or > 10) yield return "invitationAttempts: 0 to 10";
        if (Learning is null) yield return "learning: a list (empty for none)";
        foreach (var (item, i) in (Learning ?? []).Select((item, i) => (item, i)))
            if (item is null || string.IsNullOrWhiteSpace(item.Title) || item.Title.Length > 100 || string.IsNullOrWhiteSpace(item.Text) || item.Text.Length > 4000)
                yield return $"learning[{i}]: a title of 1 to 100 characters and a text of 1 to 4000";
        if (BonusPoints is { LearningTask: > 0 } && Learning is not { Count: > 0 }) yield return "bonusPoints.learningTask: needs learning items";
        if (Prizes is null) yield return "prizes: a list (empty for none)";
        foreach (var duplicate in (Prizes ?? []).GroupBy(p => p?.Id).Where(g => g.Count() > 1)) yield return $"prizes: id '{duplicate.Key}' is used twice";
        foreach (var prize in Prizes ?? [])
            if (prize is null || !System.Text.RegularExpressions.Regex.IsMatch(prize.Id ?? "", "^[a-z0-9-]{1,40}$") || string.IsNullOrWhiteSpace(prize.Name)
                || prize.Name.Length > 60 || prize.MinScore < 0 || prize.MinPoints < 0)
                yield return "prizes: each an id of lower-case letters, digits and '-', a name of 1 to 60 characters, minScore and minPoints 0 or more";
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

/// <summary>Points a person earns besides the rounds' score, per campaign stage (0 = none).</summary>
/// <param name="Profile">Once, for a completed profile (registered with a work unit or university).</param>
/// <param name="Invitation">For each invited friend (registered through the person's invitation) who finishes a round.</param>
/// <param name="LearningTask">Each day the person does the day's learning task.</param>
public sealed record BonusPoints(int Profile = 0, int Invitation = 0, int LearningTask = 0);

/// <summary>One day's learning item: what the participant reads before acknowledging it.</summary>
public sealed record LearningItem(string Title, string Text);

/// <summary>A prize tier: reached when the person's total score and points both reach its minimums.</summary>
public sealed record PrizeTier(string Id, string Name, int MinScore = 0, int MinPoints = 0);

/// <summary>A scene a participant may pick for a round: its id (sent with StartRound), its name, and the question tracks it draws from.</summary>
public sealed record Scene(string Id, string Name, string[] Pool);
