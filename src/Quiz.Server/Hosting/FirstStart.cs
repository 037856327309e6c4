using Quiz.Server.Questions;

namespace Quiz.Server.Hosting;

/// <summary>Section "Seed": where the bundled question bank is, and whether to load it.</summary>
public sealed record SeedOptions
{
    public const string Section = "Seed";
    public bool Enabled { get; init; } = true;
    /// <summary>The question-bank folder; when empty, the nearest `question-bank` above the working directory.</summary>
    public string? Path { get; init; }
}

/// <summary>
/// On an empty store, loads question-bank/ so a newcomer's first run shows a working platform.
/// A bank with errors is reported and skipped: the server still starts.
/// </summary>
public static class FirstStart
{
    public static async Task SeedAsync(this IHost app)
    {
        var options = app.Services.GetRequiredService<IConfiguration>().GetSection(SeedOptions.Section).Get<SeedOptions>() ?? new();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FirstStart));
        // Resolved now, not at the first admin request, so a generated key is on disk from the start.
        app.Services.GetRequiredService<Admin.AdminKey>();
        if (!options.Enabled) return;
        var folder = string.IsNullOrWhiteSpace(options.Path) ? FindBank() : options.Path;
        if (folder is null || !Directory.Exists(folder))
        {
            logger.LogWarning("No question-bank folder found; the store starts empty");
            return;
        }

        var bank = app.Services.GetRequiredService<QuestionBank>();
        if (await bank.CountAsync() == 0)
        {
            var report = await app.Services.GetRequiredService<QuestionImporter>()
                .ImportAsync(QuestionImporter.FindFiles(folder), dryRun: false);
            if (report.Ok) logger.LogInformation("Loaded {Count} questions from {Folder}", report.Added, folder);
            else logger.LogError("The question bank in {Folder} has errors and was not loaded: {Errors}", folder,
                string.Join(Environment.NewLine, report.Errors.Take(20)));
        }
    }

    private static string? FindBank()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "question-bank");
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
