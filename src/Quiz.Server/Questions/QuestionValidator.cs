using System.Text.RegularExpressions;
using Quiz.Server.Hosting;

namespace Quiz.Server.Questions;

/// <summary>
/// Turns drafts into questions, naming every problem (file, row, column, reason) rather than
/// stopping at the first: an admin fixes a file in one pass.
/// </summary>
public static partial class QuestionValidator
{
    public const int MaxOptions = 8;

    public static (List<Question> Valid, List<ImportError> Errors) Validate(IEnumerable<QuestionDraft> drafts)
    {
        var valid = new List<Question>();
        var errors = new List<ImportError>();
        var ids = new Dictionary<string, QuestionDraft>(StringComparer.OrdinalIgnoreCase);
        var stems = new Dictionary<string, QuestionDraft>();

        foreach (var draft in drafts)
        {
            var before = errors.Count;
            var question = ValidateOne(draft, errors);

            if (draft.Id is { Length: > 0 } id && !ids.TryAdd(id, draft))
            {
                var first = ids[id];
                errors.Add(Error(draft, "id", $"id '{id}' is used twice: also in {first.File}, row {first.Row}"));
            }
            if (draft.Stem is { Length: > 0 } stem && !stems.TryAdd(Normalize(stem), draft))
            {
                var first = stems[Normalize(stem)];
                errors.Add(Error(draft, "stem", $"the same stem as {first.File}, row {first.Row} (id {first.Id})"));
            }
            if (question is not null && errors.Count == before) valid.Add(question);
        }
        return (valid, errors);
    }

    private static Question? ValidateOne(QuestionDraft d, List<ImportError> errors)
    {
        var start = errors.Count;
        void Fail(string column, string reason) => errors.Add(Error(d, column, reason));

        var id = Text(d, "id", d.Id, 40, errors);
        if (id is not null && !IdPattern().IsMatch(id))
            Fail("id", $"'{id}' is not a valid id: use letters, digits, '-' and '_' (at most 40)");

        var type = Text(d, "type", d.Type, 20, errors)?.ToLowerInvariant();
        if (type is not null && !QuestionTypes.All.Contains(type))
        {
            Fail("type", $"'{d.Type}' is not a question type: use single, multiple or truefalse");
            type = null;
        }

        var stem = Text(d, "stem", d.Stem, 500, errors);

        var options = new List<string>();
        for (var i = 0; i < d.Options.Count; i++)
        {
            var option = Text(d, OptionColumn(i), d.Options[i], 200, errors);
            if (option is not null) options.Add(option);
        }
        if (d.Options.Count is < 2 or > MaxOptions)
            Fail("options", $"a question needs 2 to {MaxOptions} options, this one has {d.Options.Count}");
        var duplicate = options.GroupBy(o => o).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) Fail("options", $"option '{duplicate.Key}' appears twice");
        if (type == QuestionTypes.TrueFalse && !options.SequenceEqual(Question.TrueFalseOptions))
            Fail("options", "a truefalse question has exactly two options: 正确, 错误");

        var answer = Text(d, "answer", d.Answer, MaxOptions, errors)?.ToUpperInvariant().Replace(",", "").Replace(" ", "");
        if (answer is not null)
        {
            if (!AnswerPattern().IsMatch(answer) || answer.Distinct().Count() != answer.Length || !answer.Order().SequenceEqual(answer))
                Fail("answer", $"'{d.Answer}' is not a key: give the letters of the right options in order, e.g. B or ACD");
            else if (answer.Any(c => c - 'A' >= d.Options.Count))
                Fail("answer", $"'{answer}' points at an option that does not exist (the question has {d.Options.Count})");
            else if (type is QuestionTypes.Single or QuestionTypes.TrueFalse && answer.Length != 1)
                Fail("answer", $"a {type} question has exactly one right option, the key says '{answer}'");
            else if (type == QuestionTypes.Multiple && answer.Length < 2)
                Fail("answer", $"a multiple question has at least two right options, the key says '{answer}'");
        }

        var explanation = Text(d, "explanation", d.Explanation, 1000, errors);
        var source = Text(d, "source", d.Source, 300, errors);

        var tracks = new List<string>();
        foreach (var raw in d.Tracks)
        {
            var track = Text(d, "tracks", raw, 20, errors)?.ToLowerInvariant();
            if (track is null) continue;
            if (!Tracks.All.Contains(track)) Fail("tracks", $"'{raw}' is not a track: use {string.Join(", ", Tracks.All)}");
            else if (!tracks.Contains(track)) tracks.Add(track);
        }
        if (d.Tracks.Count == 0) Fail("tracks", "at least one track is required");

        var category = Text(d, "category", d.Category, 40, errors)?.ToLowerInvariant();
        if (category is not null && !CategoryPattern().IsMatch(category))
            Fail("category", $"'{d.Category}' is not a category code: lower-case letters, digits and '-'");

        int difficulty = 0;
        var difficultyText = Text(d, "difficulty", d.Difficulty, 10, errors);
        if (difficultyText is not null && (!int.TryParse(difficultyText, out difficulty) || difficulty is < 1 or > 3))
            Fail("difficulty", $"'{d.Difficulty}' is not a difficulty: use 1, 2 or 3");

        var tags = new List<string>();
        foreach (var raw in d.Tags)
        {
            var tag = Text(d, "tags", raw, 20, errors);
            if (tag is not null && !tags.Contains(tag)) tags.Add(tag);
        }
        if (tags.Count > 10) Fail("tags", $"at most 10 tags, this question has {tags.Count}");

        if (errors.Count > start) return null;
        return new Question(id!, type!, stem!, options, answer!, explanation!, source!, tracks, category!, difficulty, tags);
    }

    /// <summary>Required, trimmed, bounded text that a spreadsheet would not run as a formula.</summary>
    private static string? Text(QuestionDraft d, string column, string? value, int max, List<ImportError> errors)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            errors.Add(Error(d, column, $"{column} is required"));
            return null;
        }
        if (text.Length > max)
        {
            errors.Add(Error(d, column, $"{column} is {text.Length} characters long, at most {max} are allowed"));
            return null;
        }
        // Cells starting like a formula run code when the bank is exported and opened in Excel.
        if (Spreadsheets.StartsLikeFormula(text))
        {
            errors.Add(Error(d, column, Spreadsheets.FormulaError(column, text)));
            return null;
        }
        if (text.Any(c => char.IsControl(c) && c is not '\n'))
        {
            errors.Add(Error(d, column, $"{column} contains control characters"));
            return null;
        }
        return text;
    }

    public static string OptionColumn(int index) => $"option_{(char)('a' + index)}";

    private static ImportError Error(QuestionDraft d, string column, string reason) => new(d.File, d.Row, column, reason);

    private static string Normalize(string stem) => WhiteSpace().Replace(stem, "");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,40}$")] private static partial Regex IdPattern();
    [GeneratedRegex("^[A-H]{1,8}$")] private static partial Regex AnswerPattern();
    [GeneratedRegex("^[a-z0-9-]{1,40}$")] private static partial Regex CategoryPattern();
    [GeneratedRegex(@"\s+")] private static partial Regex WhiteSpace();
}
