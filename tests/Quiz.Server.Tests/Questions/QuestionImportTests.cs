using System.Net;
using System.Net.Http.Json;
using System.Text;
using Quiz.Server.Questions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Questions;

public sealed class QuestionImportTests : IDisposable
{
    private readonly QuizApplication _app = new();

    public void Dispose() => _app.Dispose();

    private QuestionBank Bank => _app.Service<QuestionBank>();

    public static TheoryData<string, string> Formats() => new()
    {
        { "json", ".json" }, { "csv-utf8", ".csv" }, { "csv-utf8-bom", ".csv" }, { "csv-gb18030", ".csv" }, { "xlsx", ".xlsx" },
    };

    private static byte[] Build(string format, List<Dictionary<string, string>> rows) => format switch
    {
        "json" => SampleQuestions.Json(rows),
        "csv-utf8" => SampleQuestions.Csv(rows),
        "csv-utf8-bom" => SampleQuestions.Csv(rows, bom: true),
        "csv-gb18030" => SampleQuestions.Csv(rows, Encoding.GetEncoding("GB18030")),
        _ => SampleQuestions.Xlsx(rows),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task EveryFormatImportsTheSameQuestions(string format, string extension)
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var rows = SampleQuestions.Rows(3);
        rows[1]["stem"] = "含有逗号, \"引号\" 和\n换行的题干？";

        using var response = await _app.UploadQuestionsAsync(false, ("set" + extension, Build(format, rows)));

        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, report!.Added);
        var stored = await Bank.ListAsync();
        Assert.Equal(["T-001", "T-002", "T-003"], stored.Select(q => q.Question.Id));
        var second = stored[1].Question;
        Assert.Equal("含有逗号, \"引号\" 和\n换行的题干？", second.Stem);
        Assert.Equal(["银行存款", "承诺保本高息、向社会公开拉人投资", "购买国债", "缴纳社保"], second.Options);
        Assert.Equal("B", second.Answer);
        Assert.Equal(["general", "elderly"], second.Tracks);
        Assert.Equal(["高息", "特征"], second.Tags);
        Assert.Equal(2, second.Difficulty);
    }

    [Fact]
    public async Task OneBadRowImportsNothingAndNamesTheRow()
    {
        var rows = SampleQuestions.Rows(4);
        rows[2]["answer"] = "E";

        using var response = await _app.UploadQuestionsAsync(false, ("set.csv", SampleQuestions.Csv(rows)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        var error = Assert.Single(report!.Errors);
        Assert.Equal(("set.csv", 4, "answer"), (error.File, error.Row, error.Column));
        Assert.Equal("3 questions valid, 1 errors", report.Summary);
        Assert.Equal(0, await Bank.CountAsync());
    }

    [Fact]
    public async Task ABadFileAmongGoodOnesImportsNothing()
    {
        var good = SampleQuestions.Csv(SampleQuestions.Rows(2, "A"));
        var bad = SampleQuestions.Rows(2, "B");
        bad[0]["type"] = "essay";

        using var response = await _app.UploadQuestionsAsync(false, ("a.csv", good), ("b.json", SampleQuestions.Json(bad)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await Bank.CountAsync());
    }

    [Fact]
    public async Task ReimportingTheSameSetChangesNothing()
    {
        var file = SampleQuestions.Xlsx(SampleQuestions.Rows(3));
        (await _app.UploadQuestionsAsync(false, ("set.xlsx", file))).EnsureSuccessStatusCode();

        using var again = await _app.UploadQuestionsAsync(false, ("set.xlsx", file));

        var report = await again.Content.ReadFromJsonAsync<ImportReport>();
        Assert.Equal((0, 0, 3), (report!.Added, report.Updated, report.Unchanged));
        Assert.All(await Bank.ListAsync(), q => Assert.Equal(1, q.Version));
    }

    [Fact]
    public async Task AChangedQuestionGetsANewVersionAndTheOldOneStays()
    {
        var rows = SampleQuestions.Rows(2);
        (await _app.UploadQuestionsAsync(false, ("set.json", SampleQuestions.Json(rows)))).EnsureSuccessStatusCode();
        var original = rows[0]["explanation"];
        rows[0]["explanation"] = "修改后的解析：高息承诺是诱饵。";

        using var response = await _app.UploadQuestionsAsync(false, ("set.json", SampleQuestions.Json(rows)));

        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        Assert.Equal((0, 1, 1), (report!.Added, report.Updated, report.Unchanged));
        var current = (await Bank.ListAsync()).Single(q => q.Question.Id == "T-001");
        Assert.Equal((2, "修改后的解析：高息承诺是诱饵。"), (current.Version, current.Question.Explanation));
        var first = await Bank.GetVersionAsync("T-001", 1);
        Assert.Equal(original, first!.Question.Explanation);
    }

    [Fact]
    public async Task DryRunValidatesAndReportsWithoutSaving()
    {
        using var response = await _app.UploadQuestionsAsync(true, ("set.csv", SampleQuestions.Csv(SampleQuestions.Rows(5))));

        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(report!.DryRun);
        Assert.Equal((5, 5), (report.Valid, report.Added));
        Assert.Equal(0, await Bank.CountAsync());
    }

    [Fact]
    public async Task IdsAreUniqueAcrossFilesOfOneImport()
    {
        using var response = await _app.UploadQuestionsAsync(false,
            ("a.csv", SampleQuestions.Csv([SampleQuestions.Row("X-1", "题干甲？")])),
            ("b.json", SampleQuestions.Json([SampleQuestions.Row("X-1", "题干乙？")])));

        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        var error = Assert.Single(report!.Errors);
        Assert.Equal(("b.json", "id"), (error.File, error.Column));
        Assert.Contains("a.csv, row 2", error.Reason);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("csv")]
    [InlineData("xlsx")]
    public async Task TemplatesImportAsTheyAre(string format)
    {
        using var client = _app.CreateAdminClient();
        var template = await client.GetByteArrayAsync($"/api/admin/questions/templates/{format}");

        using var response = await _app.UploadQuestionsAsync(true, ("template." + format, template));

        var report = await response.Content.ReadFromJsonAsync<ImportReport>();
        Assert.True(report!.Ok, string.Join("; ", report.Errors));
        Assert.Equal(2, report.Valid);
    }

    [Fact]
    public async Task AdminEndpointsNeedTheKey()
    {
        using var client = _app.CreateClient();
        using var response = await client.GetAsync("/api/admin/questions/templates/csv");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AdminsCanSearchTheBank()
    {
        var rows = SampleQuestions.Rows(3);
        rows[2]["stem"] = "养老院“买床位”承诺高额回报，可信吗？";
        rows[2]["tracks"] = "elderly";
        (await _app.UploadQuestionsAsync(false, ("set.csv", SampleQuestions.Csv(rows)))).EnsureSuccessStatusCode();
        using var client = _app.CreateAdminClient();

        var found = await client.GetFromJsonAsync<List<QuestionView>>("/api/admin/questions/?q=床位");
        var general = await client.GetFromJsonAsync<List<QuestionView>>("/api/admin/questions/?track=general");

        Assert.Equal("T-003", Assert.Single(found!).Id);
        Assert.Equal(["T-001", "T-002"], general!.Select(q => q.Id));
    }
}
