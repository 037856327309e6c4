using Quiz.Server.Campaigns;
using Quiz.Server.Questions;
using Quiz.Server.Units;

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
    /// <summary>Reads the store's units and campaigns into memory; then, on an empty store, seeds it.</summary>
    public static async Task SeedAsync(this IHost app)
    {
        var options = app.Services.GetRequiredService<IConfiguration>().GetSection(SeedOptions.Section).Get<SeedOptions>() ?? new();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FirstStart));
        await app.Services.GetRequiredService<UnitDirectory>().LoadAsync();
        await app.Services.GetRequiredService<CampaignCatalog>().LoadAsync();
        // Resolved now, not at the first request that needs them, so a generated secret is on disk
        // from the start and one left readable by others is tightened at once.
        app.Services.GetRequiredService<Admin.AdminKey>();
        app.Services.GetRequiredService<Participants.ParticipantTokens>();
        if (!options.Enabled) return;
        var folder = string.IsNullOrWhiteSpace(options.Path) ? FindBank() : options.Path;
        if (folder is null || !Directory.Exists(folder))
        {
            logger.LogWarning("No question-bank folder found; the store starts empty");
            return;
        }

        var units = app.Services.GetRequiredService<UnitDirectory>();
        var unitFiles = Directory.Exists(Path.Combine(folder, "units"))
            ? Directory.GetFiles(Path.Combine(folder, "units"), "*.csv").Order(StringComparer.Ordinal).Select(f => (f, Path.GetFileName(f))).ToList()
            : [];
        if (units.Regions.Count == 0 && unitFiles.Count > 0)
        {
            var result = await app.Services.GetRequiredService<UnitImport>().ImportAsync(unitFiles);
            if (result.Ok) logger.LogInformation("Loaded {Regions} regions and {Organisations} organisations", result.Regions, result.Organisations);
            else logger.LogError("The units in {Folder} have errors and were not loaded: {Errors}", folder, string.Join(Environment.NewLine, result.Errors.Take(20)));
        }

        var catalog = app.Services.GetRequiredService<CampaignCatalog>();
        var campaignFolder = Path.Combine(folder, "campaigns");
        if (catalog.All.Count == 0 && Directory.Exists(campaignFolder))
        {
            foreach (var file in Directory.GetFiles(campaignFolder, "*.json").Order(StringComparer.Ordinal))
            {
                var (campaign, errors) = CampaignCatalog.Parse(await File.ReadAllTextAsync(file));
                if (campaign is not null && Path.GetFileNameWithoutExtension(file) == "demo")
                    campaign = OpenFromToday(campaign, app.Services.GetRequiredService<TimeProvider>());
                if (campaign is null) logger.LogError("{File} is not loaded: {Errors}", file, string.Join("; ", errors));
                else await catalog.SaveAsync(campaign);
            }
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

    /// <summary>
    /// The demo campaign opens on the day of the first start, whatever its file says, so a
    /// newcomer can play at once; its stages keep their lengths and order.
    /// </summary>
    private static Campaign OpenFromToday(Campaign campaign, TimeProvider clock)
    {
        var shift = campaign.DayOf(clock.GetUtcNow()).DayNumber - campaign.Stages.Min(s => s.StartDay).DayNumber;
        return campaign with
        {
            Stages = campaign.Stages.Select(s => s with { StartDay = s.StartDay.AddDays(shift), EndDay = s.EndDay.AddDays(shift) }).ToList(),
        };
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
