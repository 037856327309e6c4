using System.Diagnostics;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Hosting;

/// <summary>The command line as a user runs it: the real server binary as its own process.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "quiz-tests", Guid.NewGuid().ToString("N"));
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var file in _files) File.Delete(file);
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private string Temp(byte[] content, string extension)
    {
        var path = SampleQuestions.WriteTemp(content, extension);
        _files.Add(path);
        return path;
    }

    [Fact]
    public async Task ImportPrintsTheSummaryLastAndExitsZero()
    {
        var file = Temp(SampleQuestions.Csv(SampleQuestions.Rows(4)), ".csv");

        var (exit, lines, errors) = await CommandLine.RunAsync("import", "questions", file, $"--Storage:DataDir={_dataDir}");

        Assert.True(exit == 0, errors);
        Assert.Equal("4 questions valid, 0 errors", lines[^1]);
        var again = await CommandLine.RunAsync("import", "questions", file, $"--Storage:DataDir={_dataDir}");
        Assert.Contains("0 added, 0 new versions, 4 unchanged", again.Lines[^2]);
    }

    [Fact]
    public async Task ErrorsArePrintedOneALineAndExitNonZero()
    {
        var rows = SampleQuestions.Rows(3);
        rows[0]["answer"] = "X";
        rows[2]["tracks"] = "nobody";
        var file = Temp(SampleQuestions.Json(rows), ".json");

        var (exit, lines, _) = await CommandLine.RunAsync("import", "questions", file, "--Storage:DataDir", _dataDir);

        Assert.Equal(1, exit);
        Assert.Equal("1 questions valid, 2 errors", lines[^1]);
        Assert.Contains(lines, l => l.Contains("row 1, column answer"));
        Assert.Contains(lines, l => l.Contains("row 3, column tracks"));
    }

    [Fact]
    public async Task DryRunSavesNothing()
    {
        var file = Temp(SampleQuestions.Csv(SampleQuestions.Rows(2)), ".csv");

        var dry = await CommandLine.RunAsync("import", "questions", file, "--dry-run", $"--Storage:DataDir={_dataDir}");
        var real = await CommandLine.RunAsync("import", "questions", file, $"--Storage:DataDir={_dataDir}");

        Assert.Equal((0, "2 questions valid, 0 errors"), (dry.ExitCode, dry.Lines[^1]));
        Assert.Contains("2 added", real.Lines[^2]); // the dry run left the store empty
    }

    [Fact]
    public async Task AFolderIsReadWholeFromItsQuestionsSubfolder()
    {
        var root = Path.Combine(_dataDir, "bank");
        Directory.CreateDirectory(Path.Combine(root, "questions", "more"));
        Directory.CreateDirectory(Path.Combine(root, "units"));
        File.WriteAllBytes(Path.Combine(root, "questions", "a.csv"), SampleQuestions.Csv(SampleQuestions.Rows(2, "A")));
        File.WriteAllBytes(Path.Combine(root, "questions", "more", "b.xlsx"), SampleQuestions.Xlsx(SampleQuestions.Rows(3, "B")));
        File.WriteAllText(Path.Combine(root, "units", "regions.csv"), "code,name\n1,x\n");

        var (exit, lines, _) = await CommandLine.RunAsync("import", "questions", root, "--dry-run", $"--Storage:DataDir={_dataDir}");

        Assert.Equal((0, "5 questions valid, 0 errors"), (exit, lines[^1]));
    }

    [Fact]
    public async Task AMissingPathOrAWrongCommandExitsNonZero()
    {
        var missing = await CommandLine.RunAsync("import", "questions", "/nonexistent/path", $"--Storage:DataDir={_dataDir}");
        var wrong = await CommandLine.RunAsync("import", "everything", $"--Storage:DataDir={_dataDir}");

        Assert.Equal((1, "0 questions valid, 1 errors"), (missing.ExitCode, missing.Lines[^1]));
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("usage", wrong.Errors);
    }

    [Fact]
    public async Task RankingsRebuildReplaysTheStoreAndReconciles()
    {
        using (var app = new QuizApplication().With("Storage:DataDir", _dataDir))
        {
            await PlayWorld.SeedAsync(app);
            await Staff.PlayRoundAsync(app, PlayWorld.County);
            await Staff.PlayRoundAsync(app, PlayWorld.OtherCounty);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var rebuilt = await CommandLine.RunAsync("rankings", "rebuild", PlayWorld.CampaignId, $"--Storage:DataDir={_dataDir}");
        var missing = await CommandLine.RunAsync("rankings", "rebuild", "no-such-campaign", $"--Storage:DataDir={_dataDir}");

        Assert.True(rebuilt.ExitCode == 0, string.Join("\n", rebuilt.Lines) + rebuilt.Errors);
        Assert.StartsWith($"{PlayWorld.CampaignId}: 2 rounds of 2 participants rebuilt", rebuilt.Lines[^1]);
        // The progress of its read of the store, last when the read is done (every 10 s before that).
        Assert.Equal($"{PlayWorld.CampaignId}: 2 of 2 rounds read", rebuilt.Lines[^2]);
        Assert.EndsWith("the boards match the store", rebuilt.Lines[^1]);
        Assert.Equal((1, "no-such-campaign: no such campaign"), (missing.ExitCode, missing.Lines[^1]));
    }
}
