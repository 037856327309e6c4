using System.Text;
using System.Text.Json;

namespace Quiz.Server.Questions;

/// <summary>A JSON question set: an array of questions, or an object with a "questions" array, with the fields of the CSV columns (options as an array).</summary>
public static class JsonQuestionReader
{
    public static async Task ReadAsync(ImportOptions limits, string path, string name, QuestionFileReader.Result result, CancellationToken ct)
    {
        JsonDocument document;
        await using (var stream = File.OpenRead(path))
        {
            try
            {
                document = await JsonDocument.ParseAsync(stream, new JsonDocumentOptions { MaxDepth = 16 }, ct);
            }
            catch (JsonException e)
            {
                var reason = e.InnerException is DecoderFallbackException or InvalidOperationException || e.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase)
                    ? "the file is not valid UTF-8 text"
                    : $"the file is not valid JSON: {e.Message}";
                result.Errors.Add(new(name, e.LineNumber is { } line ? (int)line + 1 : null, null, reason));
                return;
            }
            catch (Exception e) when (e is DecoderFallbackException or ArgumentException or InvalidOperationException)
            {
                result.Errors.Add(new(name, null, null, "the file is not valid UTF-8 text"));
                return;
            }
        }
        using (document)
        {
            var root = document.RootElement;
            var list = root.ValueKind switch
            {
                JsonValueKind.Array => root,
                JsonValueKind.Object when root.TryGetProperty("questions", out var q) && q.ValueKind == JsonValueKind.Array => q,
                _ => (JsonElement?)null,
            };
            if (list is null)
            {
                result.Errors.Add(new(name, null, null, "expected an object with a \"questions\" array (see the template)"));
                return;
            }
            var index = 0;
            foreach (var item in list.Value.EnumerateArray())
            {
                index++;
                if (index > limits.MaxRows)
                {
                    result.Errors.Add(new(name, index, null, $"the file has more than {limits.MaxRows:N0} questions (Import:MaxRows); split it"));
                    return;
                }
                if (item.ValueKind != JsonValueKind.Object)
                {
                    result.Errors.Add(new(name, index, null, "each question is a JSON object"));
                    continue;
                }
                try
                {
                    result.Drafts.Add(FromJson(name, index, item, result));
                }
                catch (InvalidOperationException)
                {
                    // JsonDocument checks UTF-8 inside strings only when they are read.
                    result.Errors.Add(new(name, index, null, "the file is not valid UTF-8 text"));
                    return;
                }
            }
        }
    }

    private static QuestionDraft FromJson(string name, int index, JsonElement item, QuestionFileReader.Result result)
    {
        var draft = new QuestionDraft { File = name, Row = index };
        foreach (var property in item.EnumerateObject())
        {
            switch (property.Name)
            {
                case "id": draft.Id = Scalar(property.Value); break;
                case "type": draft.Type = Scalar(property.Value); break;
                case "stem": draft.Stem = Scalar(property.Value); break;
                case "answer": draft.Answer = Scalar(property.Value); break;
                case "explanation": draft.Explanation = Scalar(property.Value); break;
                case "source": draft.Source = Scalar(property.Value); break;
                case "category": draft.Category = Scalar(property.Value); break;
                case "difficulty": draft.Difficulty = Scalar(property.Value); break;
                case "options": draft.Options.AddRange(List(property.Value, split: false)); break;
                case "tracks": draft.Tracks.AddRange(List(property.Value, split: true)); break;
                case "tags": draft.Tags.AddRange(List(property.Value, split: true)); break;
                default:
                    result.Errors.Add(new(name, index, property.Name, $"unknown field '{property.Name}'"));
                    break;
            }
        }
        return draft;
    }

    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => null,
    };

    private static IEnumerable<string?> List(JsonElement value, bool split) => value.ValueKind switch
    {
        JsonValueKind.Array => value.EnumerateArray().Select(Scalar),
        JsonValueKind.String when split => QuestionColumns.SplitList(value.GetString()),
        JsonValueKind.String => [value.GetString()],
        _ => [],
    };
}
