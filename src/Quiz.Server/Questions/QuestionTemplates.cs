using System.Text.Json;
using Quiz.Server.Hosting;

namespace Quiz.Server.Questions;

/// <summary>Downloadable templates, one per format, each holding the same two sample questions.</summary>
public static class QuestionTemplates
{
    private static readonly Question[] Samples =
    [
        new("SAMPLE-001", QuestionTypes.Single,
            "有人承诺“投资养老项目，每月返利3%，保本保息”，这最可能是什么？",
            ["正规银行理财", "非法集资", "社会保险", "慈善捐赠"], "B",
            "承诺保本保息、高额回报，并向社会公众吸收资金，符合非法集资的特征；正规机构不会承诺保本高息。",
            "《防范和处置非法集资条例》第二条", ["elderly", "general"], "pension", 1, ["养老", "高息"]),
        new("SAMPLE-002", QuestionTypes.TrueFalse,
            "参与非法集资受到的损失，由参与人自行承担。",
            Question.TrueFalseOptions, "A",
            "条例规定，因参与非法集资受到的损失，由集资参与人自行承担，所以要远离非法集资。",
            "《防范和处置非法集资条例》第二十五条", ["general"], "losses", 1, ["损失"]),
    ];

    public static (byte[] Content, string ContentType, string FileName)? Get(string format) => format.ToLowerInvariant() switch
    {
        "json" => (Json(), "application/json", "questions-template.json"),
        "csv" => (Spreadsheets.Csv(QuestionFileReader.Columns, Rows()), Spreadsheets.CsvType, "questions-template.csv"),
        "xlsx" => (Spreadsheets.Xlsx(QuestionFileReader.Columns, Rows()), Spreadsheets.XlsxType, "questions-template.xlsx"),
        _ => null,
    };

    private static byte[] Json() => JsonSerializer.SerializeToUtf8Bytes(new
    {
        questions = Samples.Select(q => new
        {
            id = q.Id, type = q.Type, stem = q.Stem, options = q.Options, answer = q.Answer, explanation = q.Explanation,
            source = q.Source, tracks = q.Tracks, category = q.Category, difficulty = q.Difficulty, tags = q.Tags,
        }),
    }, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static IEnumerable<IReadOnlyDictionary<string, object?>> Rows() => Samples.Select(q =>
    {
        var row = new Dictionary<string, object?>();
        foreach (var column in QuestionFileReader.Columns)
        {
            row[column] = column switch
            {
                "id" => q.Id, "type" => q.Type, "stem" => q.Stem, "answer" => q.Answer, "explanation" => q.Explanation,
                "source" => q.Source, "tracks" => string.Join('|', q.Tracks), "category" => q.Category,
                "difficulty" => q.Difficulty.ToString(), "tags" => string.Join('|', q.Tags),
                _ => column[^1] - 'a' < q.Options.Count ? q.Options[column[^1] - 'a'] : "",
            };
        }
        return row;
    });
}
