using Quiz.Server.Questions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Questions;

/// <summary>Every kind of validation error, each named by file, row, column and reason.</summary>
/// Every test is a dry run, so they share one server.
public sealed class QuestionValidationTests(SharedServer server) : IClassFixture<SharedServer>, IDisposable
{
    private readonly QuizApplication _app = server.App;
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var file in _files) File.Delete(file);
    }

    private async Task<ImportReport> DryRunAsync(byte[] content, string extension)
    {
        var path = SampleQuestions.WriteTemp(content, extension);
        _files.Add(path);
        return await _app.Service<QuestionImporter>().ImportAsync([(path, "bank" + extension)], dryRun: true);
    }

    public static TheoryData<string, string, string, string> BrokenFields() => new()
    {
        // field to change, new value, column named in the error, words the reason contains
        { "id", "", "id", "id is required" },
        { "id", "有 空格", "id", "not a valid id" },
        { "type", "essay", "type", "not a question type" },
        { "stem", "", "stem", "stem is required" },
        { "stem", new string('长', 501), "stem", "at most 500" },
        { "option_b", "", "option_b", "option_b is required" },
        { "option_c", "银行存款", "options", "appears twice" },
        { "answer", "", "answer", "answer is required" },
        { "answer", "Z", "answer", "not a key" },
        { "answer", "BA", "answer", "not a key" },
        { "answer", "E", "answer", "does not exist" },
        { "answer", "AB", "answer", "exactly one right option" },
        { "explanation", " ", "explanation", "explanation is required" },
        { "source", "", "source", "source is required" },
        { "tracks", "", "tracks", "at least one track" },
        { "tracks", "retired", "tracks", "not a track" },
        { "category", "", "category", "category is required" },
        { "category", "Pension Schemes", "category", "not a category code" },
        { "difficulty", "4", "difficulty", "not a difficulty" },
        { "difficulty", "easy", "difficulty", "not a difficulty" },
        { "tags", "a|b|c|d|e|f|g|h|i|j|k", "tags", "at most 10 tags" },
        { "stem", "=HYPERLINK(\"http://x\")", "stem", "spreadsheet formula" },
        { "explanation", "@SUM(A1)", "explanation", "spreadsheet formula" },
    };

    [Theory]
    [MemberData(nameof(BrokenFields))]
    public async Task EachBrokenFieldIsNamed(string field, string value, string column, string reason)
    {
        var rows = SampleQuestions.Rows(3);
        rows[1][field] = value;

        var report = await DryRunAsync(SampleQuestions.Csv(rows), ".csv");

        var error = Assert.Single(report.Errors);
        Assert.Equal(("bank.csv", 3, column), (error.File, error.Row, error.Column));
        Assert.Contains(reason, error.Reason);
        Assert.Equal(2, report.Valid);
    }

    [Fact]
    public async Task AMultipleChoiceQuestionNeedsTwoRightOptions()
    {
        var report = await DryRunAsync(SampleQuestions.Csv([SampleQuestions.Row("M-1", type: "multiple", answer: "C")]), ".csv");
        Assert.Contains("at least two right options", Assert.Single(report.Errors).Reason);
    }

    [Fact]
    public async Task ATrueFalseQuestionHasExactlyTheTwoOptions()
    {
        var row = SampleQuestions.Row("TF-1", type: "truefalse", answer: "A");
        row["option_b"] = "不对";
        var report = await DryRunAsync(SampleQuestions.Csv([row]), ".csv");
        Assert.Contains("正确, 错误", Assert.Single(report.Errors).Reason);
    }

    [Fact]
    public async Task AQuestionNeedsAtLeastTwoOptions()
    {
        var row = SampleQuestions.Row("O-1", answer: "A");
        row["option_b"] = row["option_c"] = row["option_d"] = "";
        var report = await DryRunAsync(SampleQuestions.Csv([row]), ".csv");
        Assert.Contains(report.Errors, e => e.Column == "options" && e.Reason.Contains("2 to 8 options"));
    }

    [Fact]
    public async Task DuplicateStemsAreNamed()
    {
        var rows = SampleQuestions.Rows(2);
        rows[1]["stem"] = rows[0]["stem"];
        var error = Assert.Single((await DryRunAsync(SampleQuestions.Csv(rows), ".csv")).Errors);
        Assert.Equal(("stem", 3), (error.Column, error.Row));
        Assert.Contains("row 2", error.Reason);
    }

    [Fact]
    public async Task EveryProblemIsReportedNotOnlyTheFirst()
    {
        var rows = SampleQuestions.Rows(5);
        rows[0]["type"] = "essay";
        rows[2]["difficulty"] = "9";
        rows[4]["source"] = "";
        rows[4]["category"] = "BAD CODE";

        var report = await DryRunAsync(SampleQuestions.Csv(rows), ".csv");

        Assert.Equal([(2, "type"), (4, "difficulty"), (6, "category"), (6, "source")],
            report.Errors.Select(e => (e.Row!.Value, e.Column!)).Order());
        Assert.Equal("2 questions valid, 4 errors", report.Summary);
    }

    [Fact]
    public async Task UnknownAndMissingColumnsAreNamed()
    {
        var csv = "id,type,stem,option_a,option_b,answer,explanation,source,tracks,difficulty,colour\r\nX,single,s?,a,b,A,e,s,general,1,red\r\n";
        var report = await DryRunAsync(System.Text.Encoding.UTF8.GetBytes(csv), ".csv");
        Assert.Contains(report.Errors, e => e.Row == 1 && e.Column == "colour" && e.Reason.Contains("unknown column"));
        Assert.Contains(report.Errors, e => e.Row == 1 && e.Column == "category" && e.Reason.Contains("no 'category' column"));
    }

    [Fact]
    public async Task JsonErrorsNameTheQuestionAndField()
    {
        var rows = SampleQuestions.Rows(2);
        rows[1]["answer"] = "Q";
        var report = await DryRunAsync(SampleQuestions.Json(rows), ".json");
        var error = Assert.Single(report.Errors);
        Assert.Equal(("bank.json", 2, "answer"), (error.File, error.Row, error.Column));
    }

    [Fact]
    public async Task XlsxErrorsNameTheSheetRow()
    {
        var rows = SampleQuestions.Rows(3);
        rows[2]["difficulty"] = "0";
        var report = await DryRunAsync(SampleQuestions.Xlsx(rows), ".xlsx");
        var error = Assert.Single(report.Errors);
        Assert.Equal(("bank.xlsx", 4, "difficulty"), (error.File, error.Row, error.Column));
    }
}
