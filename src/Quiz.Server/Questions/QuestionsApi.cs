using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Quiz.Server.Security;
using Quiz.Server.Admin;
using Quiz.Server.Events;
using Quiz.Server.Hosting;

namespace Quiz.Server.Questions;

public static class QuestionsApi
{
    public static IHostApplicationBuilder AddQuestions(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<ImportOptions>(ImportOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<QuestionBank>();
        builder.Services.AddSingleton<QuestionImporter>();
        return builder;
    }

    public static RouteGroupBuilder MapQuestions(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/admin/questions").WithTags("Questions").RequireAdmin();

        group.MapPost("/import", Import)
            .WithSummary("Import question sets (JSON, CSV, XLSX) from a multipart upload; all or nothing.");
        group.MapGet("/templates/{format}", Template)
            .WithSummary("A template to fill in: json, csv or xlsx.");
        group.MapGet("/stats", Stats)
            .WithSummary("Per question version: how often answered and right, and the most chosen wrong option; worst first.");
        group.MapGet("/", List)
            .WithSummary("The current version of every question, filtered by track, category or text.");
        return group;
    }

    private static async Task<Results<Ok<ImportReport>, BadRequest<ImportReport>, ProblemHttpResult>> Import(
        HttpRequest request, QuestionImporter importer, ReferenceDataSync nodes, IOptions<ImportOptions> options, bool? dryRun, CancellationToken ct)
    {
        var (uploads, problem) = await Uploads.ReceiveAsync(request, options.Value.MaxFileBytes, options.Value.MaxFiles, ct);
        if (uploads is null) return problem!;
        await using (uploads)
        {
            var report = await importer.ImportAsync(uploads.Files, dryRun ?? false, ct);
            if (!report.Ok) return TypedResults.BadRequest(report);
            if (!report.DryRun && report.Added + report.Updated > 0) await nodes.AnnounceAsync(ReferenceData.QuestionBank);
            return TypedResults.Ok(report);
        }
    }

    private static Results<FileContentHttpResult, NotFound> Template(string format) =>
        QuestionTemplates.Get(format) is { } t ? TypedResults.File(t.Content, t.ContentType, t.FileName) : TypedResults.NotFound();

    private static async Task<Ok<List<QuestionStats>>> Stats(Storage.Database database, QuestionBank bank, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await Dapper.SqlMapper.QueryAsync<(string Id, long Version, long Answered, long Correct, long A, long B, long C, long D, long E, long F, long G, long H)>(connection,
            $"SELECT question_id, question_version, answered, correct, {Events.QuestionStatsConsumer.ChosenColumns} FROM question_stats WHERE answered > 0");
        var stats = new List<QuestionStats>();
        foreach (var (id, version, answered, correct, a, b, c, d, e, f, g, h) in rows)
        {
            if (await bank.GetVersionAsync(id, (int)version, ct) is not { } stored) continue;
            var q = stored.Question;
            long[] chosen = [a, b, c, d, e, f, g, h];
            var wrong = Enumerable.Range(0, q.Options.Count).Where(i => !q.Answer.Contains((char)('A' + i)) && chosen[i] > 0)
                .OrderByDescending(i => chosen[i]).Select(i => new WrongOption(((char)('A' + i)).ToString(), q.Options[i], chosen[i])).FirstOrDefault();
            stats.Add(new QuestionStats(id, (int)version, q.Stem, answered, correct, (double)correct / answered, wrong));
        }
        return TypedResults.Ok(stats.OrderBy(s => s.RightRate).ThenBy(s => s.QuestionId, StringComparer.Ordinal).ToList());
    }

    private static async Task<Ok<List<QuestionView>>> List(QuestionBank bank, string? track, string? category, string? q, CancellationToken ct)
    {
        var questions = await bank.ListAsync(track, category, string.IsNullOrWhiteSpace(q) ? null : q.Trim(), ct);
        return TypedResults.Ok(questions.Select(QuestionView.From).ToList());
    }
}

public sealed record WrongOption(string Option, string Text, long Count);

public sealed record QuestionStats(string QuestionId, int Version, string Stem, long Answered, long Correct, double RightRate, WrongOption? MostChosenWrong);

/// <summary>A question as admins see it: everything, with the key.</summary>
public sealed record QuestionView(
    string Id, int Version, string Type, string Stem, IReadOnlyList<string> Options, string Answer, string Explanation,
    string Source, IReadOnlyList<string> Tracks, string Category, int Difficulty, IReadOnlyList<string> Tags)
{
    public static QuestionView From(StoredQuestion s) => new(
        s.Question.Id, s.Version, s.Question.Type, s.Question.Stem, s.Question.Options, s.Question.Answer,
        s.Question.Explanation, s.Question.Source, s.Question.Tracks, s.Question.Category, s.Question.Difficulty, s.Question.Tags);
}
