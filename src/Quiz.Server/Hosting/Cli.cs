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
          Quiz.Server admin create <name> [--password <password>] [--role admin|unit-staff] [--unit <code>]
          Quiz.Server rankings rebuild [<campaign-id>]
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
            case ["admin", "create", var name, .. var options] when options.Length % 2 == 0:
                return await CreateAccountAsync(app, name, Options(options));
            case ["rankings", "rebuild", .. var campaigns] when campaigns.Length <= 1:
                return await RebuildRankingsAsync(app, campaigns.FirstOrDefault());
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }

    private static Dictionary<string, string> Options(string[] pairs) =>
        pairs.Chunk(2).ToDictionary(p => p[0].TrimStart('-'), p => p[1]);

    /// <summary>The first admin comes from here; the password from --password or, safer, standard input.</summary>
    private static async Task<int> CreateAccountAsync(IHost app, string name, Dictionary<string, string> options)
    {
        await app.Services.GetRequiredService<Units.UnitDirectory>().LoadAsync();
        if (!options.TryGetValue("password", out var password))
        {
            Console.Error.Write("password: ");
            password = Console.ReadLine();
        }
        var role = options.GetValueOrDefault("role", Security.Roles.Admin);
        var errors = await app.Services.GetRequiredService<Accounts.AccountStore>().CreateAsync(name, password, role, options.GetValueOrDefault("unit"));
        foreach (var (field, messages) in errors) Console.WriteLine($"{field}: {string.Join("; ", messages)}");
        if (errors.Count == 0) Console.WriteLine($"created {role} account '{name}'");
        return errors.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Rebuilds the boards of one campaign (or all) from the store and reconciles them. With the
    /// Redis engine this repairs the shared boards; with the in-process one it checks the store.
    /// </summary>
    private static async Task<int> RebuildRankingsAsync(IHost app, string? campaignId)
    {
        await app.Services.GetRequiredService<Units.UnitDirectory>().LoadAsync();
        var catalog = app.Services.GetRequiredService<Campaigns.CampaignCatalog>();
        await catalog.LoadAsync();
        var rankings = app.Services.GetRequiredService<Rankings.RankingService>();
        var ids = campaignId is null ? catalog.All.Select(c => c.Id).Order().ToList() : [campaignId];
        var failed = 0;
        foreach (var id in ids)
        {
            if (catalog.Get(id) is null)
            {
                Console.WriteLine($"{id}: no such campaign");
                failed++;
                continue;
            }
            var (rebuild, reconcile) = await rankings.RebuildAsync(id, p => Console.WriteLine($"{p.CampaignId}: {p.Read:N0} of {p.Total:N0} rounds read"));
            Console.WriteLine($"{id}: {rebuild.Rounds} rounds of {rebuild.Participants} participants rebuilt in {rebuild.Elapsed.TotalSeconds:F1} s; " +
                (reconcile.Matches ? "the boards match the store" : $"{reconcile.DifferenceCount} differences: {string.Join("; ", reconcile.Differences.Take(5))}"));
            if (!reconcile.Matches) failed++;
        }
        return failed == 0 ? 0 : 1;
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
