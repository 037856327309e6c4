using Quiz.Server.Campaigns;
using Quiz.Server.Questions;

namespace Quiz.Server.Play;

/// <summary>
/// The rules of play as pure functions of the round and the clock: what an answer scores, whether
/// it came too late or too fast, and what a finished round adds up to. No store, no hub, no
/// server: tested directly (PlayRulesTests).
/// </summary>
public static class PlayRules
{
    /// <summary>
    /// The stage a round may start in at <paramref name="now"/>, or why none: starts are allowed only
    /// inside a stage's window (its days, from its opening time on the first to its closing time on
    /// the last, in the campaign's offset). Rounds already in play are not cut off by the close.
    /// </summary>
    public static (Stage? Stage, string? Closed) OpenStage(Campaign campaign, DateTimeOffset now)
    {
        if (campaign.StageAt(now) is { } open) return (open, null);
        var next = campaign.Stages.Select(s => (Stage: s, Window: s.Window(campaign.Offset))).Where(s => s.Window.Opens > now)
            .OrderBy(s => s.Window.Opens).FirstOrDefault();
        return next.Stage is { } stage
            ? (null, $"{stage.Name} opens at {next.Window.Opens.ToOffset(campaign.Offset):yyyy-MM-dd HH:mm}")
            : (null, "the campaign has ended");
    }

    /// <summary>
    /// The scene a start asks for, checked against the stage: required (and one of the stage's) when
    /// the stage has scenes, absent when it has none. The error is a <see cref="PlayErrors"/> code
    /// and its text. (One scene a day per person is claimed in the store, with the attempt.)
    /// </summary>
    public static (Scene? Scene, string? Code, string? Error) SceneFor(Stage stage, string? requested)
    {
        if (stage.Scenes is not { Count: > 0 })
            return requested is null ? (null, null, null) : (null, PlayErrors.UnknownScene, $"{stage.Name} has no scenes");
        var choices = string.Join(", ", stage.Scenes.Select(s => s.Id));
        if (string.IsNullOrEmpty(requested)) return (null, PlayErrors.SceneRequired, $"pick a scene: {choices}");
        return stage.Scene(requested) is { } scene ? (scene, null, null) : (null, PlayErrors.UnknownScene, $"no scene '{requested}'; pick one of: {choices}");
    }

    /// <summary>Why <paramref name="choices"/> are not a valid answer to <paramref name="question"/>, or null.</summary>
    public static string? InvalidChoices(DrawnQuestion question, int[] choices)
    {
        if (choices.Length == 0 || choices.Distinct().Count() != choices.Length || choices.Any(c => c < 0 || c >= question.Order.Length))
            return $"choices are distinct option positions from 0 to {question.Order.Length - 1}";
        if (question.Question.Type != QuestionTypes.Multiple && choices.Length != 1) return "this question takes exactly one choice";
        return null;
    }

    /// <summary>
    /// An answer given <paramref name="elapsedMs"/> after the round's start or the previous answer:
    /// late answers (past the stage's per-question time) score nothing and count as wrong; the key
    /// and explanation come back only when the stage shows answers during the round.
    /// </summary>
    public static GivenChoice Evaluate(Stage stage, DrawnQuestion question, int position, int[] choices, int elapsedMs)
    {
        var late = stage.QuestionSeconds is { } seconds && elapsedMs > seconds * 1000;
        var letters = question.ToBankLetters(choices);
        var points = late ? 0 : Scoring.Points(stage, question.Question, letters);
        var correct = !late && letters == question.Question.Answer;
        var result = new AnswerResult(position, correct, late,
            stage.ShowAnswers ? question.ShownKey : null, stage.ShowAnswers ? question.Question.Explanation : null);
        return new GivenChoice([.. choices.Order()], letters, correct, late, points, elapsedMs, result);
    }

    /// <summary>Why the round looks automated (an answer faster than the stage allows), or null.</summary>
    public static string? Flag(Stage stage, int position, int elapsedMs) =>
        elapsedMs < stage.MinAnswerMs ? $"question {position + 1} answered in {elapsedMs} ms (minimum {stage.MinAnswerMs} ms)" : null;

    /// <summary>When a round ends: now, but never later than its deadline (a late Finish does not lengthen it).</summary>
    public static DateTimeOffset FinishedAt(DateTimeOffset now, DateTimeOffset deadline) => now < deadline ? now : deadline;

    /// <summary>
    /// A scene's ladder after a round (rule <see cref="Stage.Ladder"/>): from <paramref name="step"/>,
    /// each answer in order climbs one step when right and drops one when wrong or unanswered,
    /// never below 0; a round with every answer right rescues the scene, and a rescue is for good.
    /// </summary>
    public static (int Step, bool Rescued) Climb(int step, bool rescued, IReadOnlyList<bool> rightInOrder)
    {
        foreach (var right in rightInOrder) step = right ? step + 1 : Math.Max(0, step - 1);
        return (step, rescued || rightInOrder.Count > 0 && rightInOrder.All(r => r));
    }

    /// <summary>The stored rows of a round's answers, unanswered questions included as '' with no points.</summary>
    public static List<RoundStore.AnswerRow> Rows(IReadOnlyList<DrawnQuestion> questions, IReadOnlyList<GivenChoice?> answers) =>
        questions.Select((q, i) => answers[i] is { } a
            ? new RoundStore.AnswerRow(i, q.Question.Id, q.Stored.Version, a.BankLetters, a.Correct, a.Points, a.ElapsedMs)
            : new RoundStore.AnswerRow(i, q.Question.Id, q.Stored.Version, "", false, 0, null)).ToList();
}
