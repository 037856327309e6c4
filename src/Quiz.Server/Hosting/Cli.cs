using Quiz.Server.Questions;

namespace Quiz.Server.Hosting;

/// <summary>
/// Commands run instead of the web server: `import questions &lt;path&gt; [--dry-run]`. Settings
/// (`--Storage:DataDir=...`) still go to configuration, so a command sees the server's store.
/// </summary>
public static class Cli
{
    public const string Usage = """
        usage:
          Quiz.Server                                     run the platform
          Quiz.Server import questions <file-or-folder> [--dry-run]
        settings may follow as --Section:Key=value, e.g. --Storage:DataDir=./data
        """;

    /// <summary>Splits the command words from configuration switches (those naming a Section:Key).</summary>
    public static (string[] Command, string[] Configuration) Split(string[] args)
    {
        var command = new List<string>();
        var configuration = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var isSetting = arg.StartsWith("--", StringComparison.Ordinal) && (arg.Contains(':') || arg.Contains('=') ||
                arg.Equals("--urls", StringComparison.OrdinalIgnoreCase) || arg.Equals("--environment", StringComparison.OrdinalIgnoreCase));
            if (!isSetting)
            {
                command.Add(arg);
                continue;
            }
            configuration.Add(arg);
            if (!arg.Contains('=') && i + 1 < args.Length) configuration.Add(args[++i]);
        }
        return (command.ToArray(), configuration.ToArray());
    }

    /// <summary>Commands log to stderr only, so stdout carries just their report.</summary>
    public static void QuietLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Warning);
    }

    public static async Task<int> RunAsync(IHost app, string[] command)
    {
        switch (command)
        {
            case ["import", "questions", var path, .. var flags] when flags.All(f => f == "--dry-run"):
                return await ImportQuestionsAsync(app, path, dryRun: flags.Length > 0);
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }

    private static async Task<int> ImportQuestionsAsync(IHost app, string path, bool dryRun)
    {
        var files = QuestionImporter.FindFiles(path);
        if (files.Count == 0)
        {
            Console.WriteLine($"{Path.GetFullPath(path)}: no .json, .csv or .xlsx question files found");
            Console.WriteLine("0 questions valid, 1 errors");
            return 1;
        }
        var report = await app.Services.GetRequiredService<QuestionImporter>().ImportAsync(files, dryRun);
        foreach (var error in report.Errors) Console.WriteLine(error);
        if (report.Ok)
            Console.WriteLine(dryRun
                ? $"dry run: {report.Added} would be added, {report.Updated} would get a new version, {report.Unchanged} unchanged"
                : $"imported: {report.Added} added, {report.Updated} new versions, {report.Unchanged} unchanged");
        Console.WriteLine(report.Summary);
        return report.Ok ? 0 : 1;
    }
}
