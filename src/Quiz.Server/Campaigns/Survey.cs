using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Quiz.Server.Campaigns;

/// <summary>
/// A campaign's survey ("群众点菜": what people want to learn, and how): a few questions shown on
/// the phone after a person's first round of the day, answered once. Data, like the stages.
/// </summary>
public sealed record Survey
{
    public const int MaxQuestions = 5;
    /// <summary>How long a free-text answer may be, in characters.</summary>
    public const int MaxTextLength = 100;

    /// <summary>
    /// Set by the server, never by the definition: a survey whose questions differ from the stored
    /// one's gets the next version, so answers already given stay with the questions they answered.
    /// </summary>
    public int Version { get; init; }
    public required string Title { get; init; }
    /// <summary>A line under the title, e.g. why we ask.</summary>
    public string? Intro { get; init; }
    public required IReadOnlyList<SurveyQuestion> Questions { get; init; }

    public SurveyQuestion? Question(string id) => Questions.FirstOrDefault(q => q.Id == id);

    /// <summary>What makes two versions differ: everything but the version number.</summary>
    public string Content() => JsonSerializer.Serialize(this with { Version = 0 }, Campaign.Json);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Title) || Title.Length > 60) yield return "title: 1 to 60 characters";
        if (Intro is { Length: > 200 }) yield return "intro: at most 200 characters";
        if (Questions is not { Count: > 0 and <= MaxQuestions }) { yield return $"questions: 1 to {MaxQuestions}"; yield break; }
        foreach (var duplicate in Questions.GroupBy(q => q?.Id).Where(g => g.Count() > 1)) yield return $"questions: id '{duplicate.Key}' is used twice";
        foreach (var (question, i) in Questions.Select((q, i) => (q, i)))
        {
            if (question is null || !Slug(question.Id)) { yield return $"questions[{i}].id: lower-case letters, digits and '-', at most 40"; continue; }
            foreach (var error in question.Validate()) yield return $"questions[{question.Id}].{error}";
        }
    }

    internal static bool Slug(string? id) => Regex.IsMatch(id ?? "", "^[a-z0-9-]{1,40}$");
}

[JsonConverter(typeof(KebabCaseEnumConverter<SurveyQuestionKind>))]
public enum SurveyQuestionKind
{
    /// <summary>One option.</summary>
    Single,
    /// <summary>One or more options.</summary>
    Multiple,
    /// <summary>A short text of at most <see cref="Survey.MaxTextLength"/> characters, through the nickname filter; readable by admins only.</summary>
    Text,
}

public sealed record SurveyQuestion
{
    public required string Id { get; init; }
    public required string Text { get; init; }
    public SurveyQuestionKind Kind { get; init; } = SurveyQuestionKind.Single;
    /// <summary>A required question must be answered for the reply to be taken; skipping the whole survey is always allowed.</summary>
    public bool Required { get; init; } = true;
    public IReadOnlyList<SurveyOption> Options { get; init; } = [];

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Text) || Text.Length > 100) yield return "text: 1 to 100 characters";
        if (!Enum.IsDefined(Kind)) yield return "kind: single, multiple or text";
        if (Options is null) { yield return "options: a list"; yield break; }
        if (Kind == SurveyQuestionKind.Text)
        {
            if (Options.Count > 0) yield return "options: a text question has none";
            yield break;
        }
        if (Options.Count is < 2 or > 12) yield return "options: 2 to 12";
        foreach (var duplicate in Options.GroupBy(o => o?.Id).Where(g => g.Count() > 1)) yield return $"options: id '{duplicate.Key}' is used twice";
        // Exports head their columns with the texts.
        foreach (var duplicate in Options.GroupBy(o => o?.Text).Where(g => g.Count() > 1)) yield return $"options: text '{duplicate.Key}' is used twice";
        foreach (var (option, i) in Options.Select((o, i) => (o, i)))
            if (option is null || !Survey.Slug(option.Id) || string.IsNullOrWhiteSpace(option.Text) || option.Text.Length > 40
                || option.Category is not null && !Survey.Slug(option.Category))
                yield return $"options[{i}]: an id of lower-case letters, digits and '-' (at most 40), a text of 1 to 40 characters, and an optional category code";
    }
}

/// <param name="Category">
/// The question-bank category this option asks for (e.g. "pension"), if any: it puts the answer
/// beside the right rate of that category on the dashboard's demand chart.
/// </param>
public sealed record SurveyOption(string Id, string Text, string? Category = null);
