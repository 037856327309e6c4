using Microsoft.Extensions.Options;

namespace Quiz.Server.Questions;

/// <summary>What an import did, or would do on a dry run. The CLI prints it, the API returns it.</summary>
public sealed record ImportReport(
    bool DryRun,
    IReadOnlyList<string> Files,
    int Valid,
    IReadOnlyList<ImportError> Errors,
    int Added,
    int Updated,
    int Unchanged)
{
    public bool Ok => Errors.Count == 0;
    public string Summary => $"{Valid} questions valid, {Errors.Count} errors";
}

/// <summary>
/// Reads every file, validates all questions together (ids are unique across files), and saves
/// them in one transaction only when nothing is wrong: one bad row imports nothing.
/// </summary>
public sealed class QuestionImporter(QuestionBank bank, IOptions<ImportOptions> options)
{
    private static readonly string[] Extensions = [".json", ".csv", ".xlsx"];

    public async Task<ImportReport> ImportAsync(IReadOnlyList<(string Path, string Name)> files, bool dryRun, CancellationToken ct = default)
    {
        var reader = new QuestionFileReader(options.Value);
        var drafts = new List<QuestionDraft>();
        var errors = new List<ImportError>();
        if (files.Count == 0) errors.Add(new("(none)", null, null, "no question files were given"));
        if (files.Count > options.Value.MaxFiles)
        {
            errors.Add(new("(import)", null, null, $"{files.Count} files at once, more than the limit of {options.Value.MaxFiles} (Import:MaxFiles)"));
            files = [];
        }
        foreach (var (path, name) in files)
        {
            var result = await reader.ReadAsync(path, name, ct);
            drafts.AddRange(result.Drafts);
            errors.AddRange(result.Errors);
        }
        var (valid, invalid) = QuestionValidator.Validate(drafts);
        errors.AddRange(invalid);
        errors.Sort((a, b) => (a.File, a.Row ?? 0).CompareTo((b.File, b.Row ?? 0)));

        var names = files.Select(f => f.Name).ToList();
        if (errors.Count > 0) return new ImportReport(dryRun, names, valid.Count, errors, 0, 0, 0);
        if (dryRun)
        {
            var current = await bank.CurrentHashesAsync(ct);
            var added = valid.Count(q => !current.ContainsKey(q.Id));
            var unchanged = valid.Count(q => current.TryGetValue(q.Id, out var c) && c.Hash == q.ContentHash());
            return new ImportReport(true, names, valid.Count, errors, added, valid.Count - added - unchanged, unchanged);
        }
        var saved = await bank.SaveAsync(valid, ct);
        return new ImportReport(false, names, valid.Count, errors, saved.Added, saved.Updated, saved.Unchanged);
    }

    /// <summary>
    /// The question files under a path: the file itself, or every .json/.csv/.xlsx below a folder.
    /// The bank's root (question-bank/) keeps its questions in questions/, beside units and
    /// campaigns, so a folder with a questions/ subfolder is read from there.
    /// </summary>
    public static List<(string Path, string Name)> FindFiles(string path)
    {
        if (File.Exists(path)) return [(path, Path.GetFileName(path))];
        if (!Directory.Exists(path)) return [];
        var root = Directory.Exists(Path.Combine(path, "questions")) ? Path.Combine(path, "questions") : path;
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .Select(f => (f, Path.GetRelativePath(root, f)))
            .ToList();
    }
}
