using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Server.Campaigns;
using Quiz.Server.Circulars;
using Quiz.Server.Dashboard;
using Quiz.Server.Hosting;
using Quiz.Server.Participants;
using Quiz.Server.Security;
using Quiz.Server.Units;
using static Quiz.Server.Surveys.SurveyStore;

namespace Quiz.Server.Surveys;

/// <summary>
/// A campaign's survey: the participant gets it and answers it once; unit staff read the counts
/// of their unit and its children (and export them), admins the free text too; and the demand
/// chart puts what people ask to learn beside what they get wrong. See docs/web-api.md.
/// </summary>
public static class SurveysApi
{
    public static IHostApplicationBuilder AddSurveys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SurveyStore>();
        return builder;
    }

    public static IEndpointRouteBuilder MapSurveys(this IEndpointRouteBuilder routes)
    {
        var mine = routes.MapGroup("/api/campaigns/{campaignId}/survey").WithTags("Surveys").RequireAuthorization(Access.ParticipantPolicy);
        mine.MapGet("/", Get).WithSummary("The campaign's survey as it is now, whether I answered it, and whether to offer it (a round finished today, not answered).");
        mine.MapPost("/", Answer).WithSummary("Answer the survey, once (in any version).");

        var staff = routes.MapGroup("/api/dashboard/{campaignId}").WithTags("Surveys").RequireStaff();
        staff.MapGet("/survey", Counts).WithSummary("A unit's survey counts (per option), with each child unit's; one version, the current by default.");
        staff.MapGet("/survey/export", Export).WithSummary("The survey counts of a unit and its children as CSV or XLSX.")
            .Produces(StatusCodes.Status200OK, typeof(Stream), Spreadsheets.CsvType, Spreadsheets.XlsxType);
        staff.MapGet("/survey/texts", Texts).RequireAuthorization(Access.AdminPolicy)
            .WithSummary("The free-text answers of a unit's people, newest first (admins only).");
        staff.MapGet("/demand", Demand).WithSummary("Demand against knowledge: per question category, how often people asked for it and how often they get it wrong.");
        return routes;
    }

    // ---- the participant --------------------------------------------------------------------

    /// <param name="Day">Today, campaign time: the page offers the survey once a day, after the day's first round.</param>
    /// <param name="Answered">The version I answered, if I did (then the survey is never offered again).</param>
    /// <param name="Offer">Not answered, and I finished a round of the campaign today.</param>
    public sealed record SurveyView(
        string CampaignId, int Version, string Title, string? Intro, IReadOnlyList<SurveyQuestion> Questions, DateOnly Day, int? Answered, bool Offer);

    private static async Task<Results<Ok<SurveyView>, NotFound>> Get(
        string campaignId, ClaimsPrincipal user, CampaignCatalog campaigns, SurveyStore surveys, TimeProvider clock, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { Survey: { } survey } campaign) return TypedResults.NotFound();
        var me = user.ParticipantId();
        var day = campaign.DayOf(clock.GetUtcNow());
        var answered = await surveys.AnsweredAsync(me, campaignId, ct);
        var offer = answered is null && await surveys.RoundsAsync(me, campaignId, day, ct) > 0;
        return TypedResults.Ok(new SurveyView(campaignId, survey.Version, survey.Title, survey.Intro, survey.Questions, day, answered, offer));
    }

    /// <param name="Version">The version the page showed: a reply to any other is refused (the questions changed).</param>
    public sealed record SurveyReply(int Version, IReadOnlyList<SurveyAnswer>? Answers);

    /// <param name="Question">The question's id.</param>
    /// <param name="Options">The options' ids (single: one; multiple: one or more).</param>
    /// <param name="Text">For a text question: at most 100 characters.</param>
    public sealed record SurveyAnswer(string Question, IReadOnlyList<string>? Options = null, string? Text = null);

    public sealed record SurveyAnswered(int Version);

    private static async Task<Results<Ok<SurveyAnswered>, NotFound, ValidationProblem, ProblemHttpResult>> Answer(
        string campaignId, SurveyReply reply, ClaimsPrincipal user, CampaignCatalog campaigns, SurveyStore surveys, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { Survey: { } survey }) return TypedResults.NotFound();
        var me = user.ParticipantId();
        if (await surveys.AnsweredAsync(me, campaignId, ct) is { } answered) return AlreadyAnswered(answered);
        if (reply.Version != survey.Version)
            return Conflict("survey-changed", "The survey has changed",
                $"This reply answers version {reply.Version}; the survey is at version {survey.Version} now. Load it again.");
        var (checkedReply, errors) = Check(survey, reply);
        if (checkedReply is null) return TypedResults.ValidationProblem(errors, title: "The answers do not fit the survey");
        if (await surveys.RoundsAsync(me, campaignId, null, ct) == 0)
            return Conflict("no-round", "Play a round first", "The survey is for people who have played a round of this campaign.");
        // The check above is for the message; the store's key is what makes "once" hold under a race.
        if (!await surveys.AnswerAsync(me, campaignId, survey.Version, checkedReply, ct))
            return AlreadyAnswered(await surveys.AnsweredAsync(me, campaignId, ct) ?? survey.Version);
        return TypedResults.Ok(new SurveyAnswered(survey.Version));
    }

    private static ProblemHttpResult AlreadyAnswered(int version) =>
        Conflict("already-answered", "Already answered", $"You answered this campaign's survey (version {version}); it is answered once.");

    private static ProblemHttpResult Conflict(string code, string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail,
            extensions: new Dictionary<string, object?> { ["code"] = code });

    // ---- unit staff ---------------------------------------------------------------------------

    /// <summary>A unit as the survey figures see it: who counts, and which child each of them counts under.</summary>
    private sealed record UnitOfPeople(string? Code, string Name, Members Members, IReadOnlyList<(string Code, string Name)> Children, Func<GroupCount, string?> ChildOf);

    /// <summary>The unit asked for (or the account's own) in the user's scope; null when there is no such unit.</summary>
    private static (UnitOfPeople? Unit, bool Allowed) Resolve(ClaimsPrincipal user, string? unit, UnitScope scope, UnitDirectory units)
    {
        var code = string.IsNullOrWhiteSpace(unit) ? UnitScope.UnitOf(user) : unit;
        if (!scope.Allows(user, code)) return (null, false);
        if (code is null)
            return (new UnitOfPeople(null, "全国", new Members(MemberKind.Everyone),
                units.Children(null).Select(r => (r.Code, r.Name)).ToList(), g => units.PathOf(g.Region).FirstOrDefault()), true);
        if (units.Region(code) is { } region)
        {
            var depth = units.PathOf(code).Count;
            return (new UnitOfPeople(code, region.Name, new Members(MemberKind.Regions, units.Subtree(code).ToArray()),
                units.Children(code).Select(r => (r.Code, r.Name)).ToList(), g => units.PathOf(g.Region) is var path && path.Count > depth ? path[depth] : null), true);
        }
        if (units.Organisation(code) is { } organisation)
            return (new UnitOfPeople(code, organisation.Name, new Members(MemberKind.Organisations, [code]), [], _ => null), true);
        if (DashboardService.TypeOf(code) is { } type)
        {
            if (type.Length == 0)
                return (new UnitOfPeople(code, "机构", new Members(MemberKind.AnyOrganisation),
                    DashboardService.TypeNames.Select(t => (DashboardService.TypePrefix + t.Key, t.Value)).ToList(),
                    g => units.Organisation(g.Organisation ?? "") is { } o ? DashboardService.TypePrefix + o.Type : null), true);
            var members = units.Organisations.Where(o => o.Type == type).ToList();
            return (new UnitOfPeople(code, DashboardService.TypeNames.GetValueOrDefault(type, type), new Members(MemberKind.Organisations, members.Select(o => o.Code).ToArray()),
                members.Select(o => (o.Code, o.Name)).ToList(), g => g.Organisation), true);
        }
        return (null, true);
    }

    public sealed record OptionCount(string Id, string Text, string? Category, long Count);

    /// <param name="Texts">For a text question: how many wrote something (the texts themselves are for admins).</param>
    public sealed record QuestionCounts(string Id, string Text, SurveyQuestionKind Kind, IReadOnlyList<OptionCount> Options, long Texts);

    /// <param name="Counts">Per question, per option (ids), as in <see cref="SurveyResults.Questions"/>; a text question's count of texts under the option "".</param>
    public sealed record ChildCounts(string Code, string Name, long Respondents, IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Counts);

    /// <param name="Unit">The unit's code; null for the country.</param>
    /// <param name="Versions">Every version of the survey: older ones can be asked for by version=.</param>
    public sealed record SurveyResults(
        string? Unit, string UnitName, int Version, IReadOnlyList<int> Versions, string Title, long Respondents,
        IReadOnlyList<QuestionCounts> Questions, IReadOnlyList<ChildCounts> Children);

    private static async Task<Results<Ok<SurveyResults>, NotFound, ForbidHttpResult>> Counts(
        string campaignId, string? unit, int? version, ClaimsPrincipal user, UnitScope scope, UnitDirectory units,
        CampaignCatalog campaigns, SurveyStore surveys, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return TypedResults.NotFound();
        var (people, allowed) = Resolve(user, unit, scope, units);
        if (!allowed) return TypedResults.Forbid();
        if (people is null) return TypedResults.NotFound();
        var results = await CountAsync(campaignId, version, people, surveys, ct);
        return results is null ? TypedResults.NotFound() : TypedResults.Ok(results);
    }

    private static async Task<SurveyResults?> CountAsync(string campaignId, int? version, UnitOfPeople people, SurveyStore surveys, CancellationToken ct)
    {
        var versions = await surveys.VersionsAsync(campaignId, ct);
        if ((version is null ? versions.LastOrDefault() : versions.FirstOrDefault(v => v.Version == version)) is not { } survey) return null;
        var (respondents, choices, texts) = await surveys.CountsAsync(campaignId, survey.Version, people.Members, ct);

        IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Counts(Func<GroupCount, bool> include) =>
            survey.Questions.ToDictionary(q => q.Id, q => (IReadOnlyDictionary<string, long>)(q.Kind == SurveyQuestionKind.Text
                ? new Dictionary<string, long> { [""] = texts.Where(t => t.Question == q.Id && include(t)).Sum(t => t.Count) }
                : q.Options.ToDictionary(o => o.Id, o => choices.Where(c => c.Question == q.Id && c.Option == o.Id && include(c)).Sum(c => c.Count))));

        var all = Counts(_ => true);
        var questions = survey.Questions.Select(q => new QuestionCounts(q.Id, q.Text, q.Kind,
            q.Options.Select(o => new OptionCount(o.Id, o.Text, o.Category, all[q.Id][o.Id])).ToList(),
            q.Kind == SurveyQuestionKind.Text ? all[q.Id][""] : 0)).ToList();
        var children = people.Children.Select(c => new ChildCounts(c.Code, c.Name,
            respondents.Where(r => people.ChildOf(r) == c.Code).Sum(r => r.Count), Counts(g => people.ChildOf(g) == c.Code))).ToList();
        return new SurveyResults(people.Code, people.Name, survey.Version, versions.Select(v => v.Version).ToList(), survey.Title,
            respondents.Sum(r => r.Count), questions, children);
    }

    private static async Task<Results<FileContentHttpResult, NotFound, ForbidHttpResult, ProblemHttpResult>> Export(
        string campaignId, string? unit, int? version, string? format, ClaimsPrincipal user, UnitScope scope, UnitDirectory units,
        CampaignCatalog campaigns, SurveyStore surveys, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return TypedResults.NotFound();
        var (people, allowed) = Resolve(user, unit, scope, units);
        if (!allowed) return TypedResults.Forbid();
        if (people is null) return TypedResults.NotFound();
        if (format is not ("csv" or "xlsx"))
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unknown format", detail: "format is csv or xlsx.");
        if (await CountAsync(campaignId, version, people, surveys, ct) is not { } results) return TypedResults.NotFound();

        // Headers in Chinese, numbered by question, as the other exports: the file goes to unit staff.
        var columns = results.Questions.SelectMany((q, i) => q.Kind == SurveyQuestionKind.Text
            ? [(Header: $"{i + 1}. {q.Text}：填写人数", Question: q.Id, Option: "")]
            : q.Options.Select(o => (Header: $"{i + 1}. {q.Text}：{o.Text}", Question: q.Id, Option: o.Id))).ToList();
        string[] header = ["单位代码", "单位", "答卷人数", .. columns.Select(c => c.Header)];
        IReadOnlyDictionary<string, object?> Row(string code, string name, long respondents, IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> counts)
        {
            var row = new Dictionary<string, object?> { ["单位代码"] = code, ["单位"] = name, ["答卷人数"] = respondents };
            foreach (var c in columns) row[c.Header] = counts[c.Question][c.Option];
            return row;
        }
        var own = results.Questions.ToDictionary(q => q.Id, q => (IReadOnlyDictionary<string, long>)(q.Kind == SurveyQuestionKind.Text
            ? new Dictionary<string, long> { [""] = q.Texts } : q.Options.ToDictionary(o => o.Id, o => o.Count)));
        var rows = results.Children.Select(c => Row(c.Code, c.Name, c.Respondents, c.Counts)).Prepend(Row(results.Unit ?? "", results.UnitName, results.Respondents, own)).ToList();
        var name = $"{campaignId}-survey-v{results.Version}-{(results.Unit is null ? "national" : results.Unit.Replace(':', '-').TrimEnd('-'))}";
        return format == "xlsx"
            ? TypedResults.File(Spreadsheets.Xlsx(header, rows), Spreadsheets.XlsxType, name + ".xlsx")
            : TypedResults.File(Spreadsheets.Csv(header, rows), Spreadsheets.CsvType, name + ".csv");
    }

    public sealed record SurveyText(int Version, string Question, string QuestionText, string Text, string RegionCode, string RegionName, string? OrganisationName, string AnsweredAt);

    /// <param name="Total">How many texts there are; at most 1000 (the newest) are listed.</param>
    public sealed record SurveyTexts(string? Unit, string UnitName, long Total, IReadOnlyList<SurveyText> Texts);

    private static async Task<Results<Ok<SurveyTexts>, NotFound>> Texts(
        string campaignId, string? unit, ClaimsPrincipal user, UnitScope scope, UnitDirectory units, CampaignCatalog campaigns, SurveyStore surveys, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return TypedResults.NotFound();
        // Admins only (the endpoint's policy), so every unit is in scope.
        if (Resolve(user, unit, scope, units).Unit is not { } people) return TypedResults.NotFound();
        var versions = (await surveys.VersionsAsync(campaignId, ct)).ToDictionary(v => v.Version);
        var (total, rows) = await surveys.TextsAsync(campaignId, people.Members, 1000, ct);
        return TypedResults.Ok(new SurveyTexts(people.Code, people.Name, total, rows.Select(r => new SurveyText((int)r.Version, r.Question,
            versions.GetValueOrDefault((int)r.Version)?.Question(r.Question)?.Text ?? r.Question, r.Text, r.Region, units.Region(r.Region)?.Name ?? r.Region,
            r.Organisation is null ? null : units.Organisation(r.Organisation)?.Name, r.AnsweredAt)).ToList()));
    }

    /// <param name="Requests">How often an option naming the category was chosen (over every version of the survey).</param>
    /// <param name="RequestShare">Requests per 100 respondents, one decimal.</param>
    /// <param name="Answered">Questions of the category answered in rounds (unanswered ones aside).</param>
    /// <param name="WrongRate">Wrong answers per 100 answered, one decimal.</param>
    public sealed record DemandRow(string Category, string Name, long Requests, decimal RequestShare, long Answered, long Correct, decimal WrongRate);

    public sealed record DemandView(string? Unit, string UnitName, long Respondents, IReadOnlyList<DemandRow> Categories);

    private static async Task<Results<Ok<DemandView>, NotFound, ForbidHttpResult>> Demand(
        string campaignId, string? unit, ClaimsPrincipal user, UnitScope scope, UnitDirectory units, CampaignCatalog campaigns, SurveyStore surveys, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return TypedResults.NotFound();
        var (people, allowed) = Resolve(user, unit, scope, units);
        if (!allowed) return TypedResults.Forbid();
        if (people is null) return TypedResults.NotFound();
        var versions = (await surveys.VersionsAsync(campaignId, ct)).ToDictionary(v => v.Version);
        var (respondents, choices) = await surveys.DemandAsync(campaignId, people.Members, ct);
        var requests = choices
            .Select(c => (Category: versions.GetValueOrDefault((int)c.Version)?.Question(c.Question)?.Options.FirstOrDefault(o => o.Id == c.Option)?.Category, c.Count))
            .Where(c => c.Category is not null).GroupBy(c => c.Category!).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var knowledge = (await surveys.KnowledgeAsync(campaignId, people.Members, ct)).ToDictionary(k => k.Category);
        var rows = requests.Keys.Union(knowledge.Keys).Select(category =>
        {
            var asked = requests.GetValueOrDefault(category);
            var known = knowledge.GetValueOrDefault(category);
            long answered = known?.Answered ?? 0, correct = known?.Correct ?? 0;
            return new DemandRow(category, CircularService.CategoryName(category), asked,
                respondents == 0 ? 0 : Math.Round(100m * asked / respondents, 1), answered, correct,
                answered == 0 ? 0 : Math.Round(100m * (answered - correct) / answered, 1));
        }).OrderByDescending(r => r.Requests).ThenByDescending(r => r.WrongRate).ThenBy(r => r.Category, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new DemandView(people.Code, people.Name, respondents, rows));
    }
}
