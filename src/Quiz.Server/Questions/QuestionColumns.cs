namespace Quiz.Server.Questions;

/// <summary>The columns of a tabular question sheet (CSV, XLSX): the header checked and mapped, a row made a draft.</summary>
public static class QuestionColumns
{
    private static readonly string[] RequiredColumns =
        ["id", "type", "stem", "option_a", "option_b", "answer", "explanation", "source", "tracks", "category", "difficulty"];

    private static string[] Columns => QuestionFileReader.Columns;

    /// <summary>Column index → field name, or null (with errors) when the header is unusable.</summary>
    public static Dictionary<int, int>? MapHeader(List<string> header, string name, QuestionFileReader.Result result)
    {
        var map = new Dictionary<int, int>();
        var ok = true;
        for (var i = 0; i < header.Count; i++)
        {
            var column = header[i].Trim().ToLowerInvariant();
            var field = Array.IndexOf(Columns, column);
            if (field < 0)
            {
                result.Errors.Add(new(name, 1, header[i], $"unknown column '{header[i]}'; the columns are {string.Join(", ", Columns)}"));
                ok = false;
            }
            else if (map.ContainsValue(field))
            {
                result.Errors.Add(new(name, 1, header[i], $"column '{column}' appears twice"));
                ok = false;
            }
            else map[i] = field;
        }
        foreach (var missing in RequiredColumns.Where(c => !map.ContainsValue(Array.IndexOf(Columns, c))))
        {
            result.Errors.Add(new(name, 1, missing, $"the header has no '{missing}' column"));
            ok = false;
        }
        return ok ? map : null;
    }

    public static QuestionDraft ToDraft(string name, int row, Func<int, string?> value, Dictionary<int, int> map)
    {
        var draft = new QuestionDraft { File = name, Row = row };
        var options = new string?[QuestionValidator.MaxOptions];
        foreach (var (index, field) in map)
        {
            var text = value(index);
            switch (Columns[field])
            {
                case "id": draft.Id = text; break;
                case "type": draft.Type = text; break;
                case "stem": draft.Stem = text; break;
                case "answer": draft.Answer = text; break;
                case "explanation": draft.Explanation = text; break;
                case "source": draft.Source = text; break;
                case "category": draft.Category = text; break;
                case "difficulty": draft.Difficulty = text; break;
                case "tracks": draft.Tracks.AddRange(SplitList(text)); break;
                case "tags": draft.Tags.AddRange(SplitList(text)); break;
                default: options[field - 3] = text; break; // option_a … option_h follow id, type, stem
            }
        }
        // Empty option columns are skipped, but a gap (a, b, d) would shift the key's letters.
        var last = Array.FindLastIndex(options, o => !string.IsNullOrWhiteSpace(o));
        for (var i = 0; i <= last; i++) draft.Options.Add(options[i]);
        return draft;
    }

    public static IEnumerable<string?> SplitList(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : text.Split(['|', '、', ';', '；'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
