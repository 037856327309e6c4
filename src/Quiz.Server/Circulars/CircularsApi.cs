using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Server.Campaigns;
using Quiz.Server.Dashboard;
using Quiz.Server.Hosting;
using Quiz.Server.Security;
using Quiz.Server.Units;

namespace Quiz.Server.Circulars;

/// <summary>
/// Circulars on demand: a province's or a city's circular for any period of the campaign, as the
/// DOCX officers edit and send, or its XLSX annex; and the circulars issued on the schedule
/// (<see cref="CircularScheduler"/>), listed and downloaded as they were issued. Beside the
/// dashboard's own files (same route prefix, same staff policy and unit scope), since a circular
/// quotes the dashboard's figures.
/// </summary>
public static class CircularsApi
{
    public static IHostApplicationBuilder AddCirculars(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<CircularOptions>(CircularOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<CircularService>();
        builder.Services.AddSingleton<IssuedCirculars>();
        builder.Services.AddSingleton<CircularScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CircularScheduler>());
        return builder;
    }

    public static IEndpointRouteBuilder MapCirculars(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/dashboard/{campaignId}").WithTags("Dashboard").RequireStaff();
        // The file types and the problems named for the OpenAPI document: a typed file or problem
        // result carries no metadata of its own.
        group.MapGet("/circular", Circular).WithSummary("A province's or city's circular for the days from..to: DOCX, or its annex as XLSX.")
            .Produces(StatusCodes.Status200OK, typeof(Stream), CircularDocument.DocxType, Spreadsheets.XlsxType)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .Produces(StatusCodes.Status403Forbidden);
        group.MapGet("/circulars", Issued).WithSummary("The circulars issued on the schedule that the caller may see (a unit's own with unit=), newest period first.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .Produces(StatusCodes.Status403Forbidden);
        group.MapGet("/circulars/{id:long}", IssuedFile).WithSummary("An issued circular as it was issued: DOCX, or its annex as XLSX.")
            .Produces(StatusCodes.Status200OK, typeof(Stream), CircularDocument.DocxType, Spreadsheets.XlsxType)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .Produces(StatusCodes.Status403Forbidden);
        return routes;
    }

    /// <summary>An issued circular in the list: which office, which period, when (the files are at <c>circulars/{id}</c>).</summary>
    public sealed record IssuedCircular(long Id, CircularKind Kind, string Unit, string UnitName, DateOnly From, DateOnly To, DateTimeOffset IssuedAt);

    private static async Task<Results<Ok<List<IssuedCircular>>, ProblemHttpResult, ForbidHttpResult>> Issued(
        string campaignId, string? unit, ClaimsPrincipal user, UnitScope scope, CampaignCatalog campaigns, UnitDirectory units,
        IssuedCirculars issued, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return Problem(StatusCodes.Status404NotFound, "Unknown campaign", $"There is no campaign '{campaignId}'.");
        if (!string.IsNullOrWhiteSpace(unit))
        {
            if (units.Region(unit) is null && units.Organisation(unit) is null)
                return Problem(StatusCodes.Status404NotFound, "Unknown unit", $"There is no unit '{unit}'.");
            if (!scope.Allows(user, unit)) return TypedResults.Forbid();
        }
        // Without unit=: every circular of the caller's subtree (an admin's: all of them).
        var rows = (await issued.ListAsync(campaignId, ct))
            .Where(r => string.IsNullOrWhiteSpace(unit) ? scope.Allows(user, r.UnitCode) : r.UnitCode == unit);
        return TypedResults.Ok(rows.Select(r => new IssuedCircular(r.Id, CircularSchedule.Parse(r.Kind), r.UnitCode,
            units.Region(r.UnitCode)?.Name ?? r.UnitCode, ParseDay(r.PeriodFrom), ParseDay(r.PeriodTo),
            DateTimeOffset.Parse(r.IssuedAt, System.Globalization.CultureInfo.InvariantCulture))).ToList());
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult, ForbidHttpResult>> IssuedFile(
        string campaignId, long id, string? format, ClaimsPrincipal user, UnitScope scope, CampaignCatalog campaigns,
        IssuedCirculars issued, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is null) return Problem(StatusCodes.Status404NotFound, "Unknown campaign", $"There is no campaign '{campaignId}'.");
        if (format is not (null or "docx" or "xlsx"))
            return Problem(StatusCodes.Status400BadRequest, "Unknown format", "format is docx (the circular, the default) or xlsx (its annex).");
        if (await issued.FileAsync(campaignId, id, format == "xlsx", ct) is not ({ } row, { } file))
            return Problem(StatusCodes.Status404NotFound, "Unknown circular", $"Campaign '{campaignId}' has no issued circular {id}.");
        if (!scope.Allows(user, row.UnitCode)) return TypedResults.Forbid();
        var name = $"{row.CampaignId}-{row.UnitCode}-{row.PeriodFrom.Replace("-", "")}-{row.PeriodTo.Replace("-", "")}-{row.Kind}";
        return format == "xlsx"
            ? TypedResults.File(file, Spreadsheets.XlsxType, name + "-annex.xlsx")
            : TypedResults.File(file, CircularDocument.DocxType, name + ".docx");
    }

    private static DateOnly ParseDay(string day) => DateOnly.ParseExact(day, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult, ForbidHttpResult>> Circular(
        string campaignId, string? unit, string? from, string? to, string? format, ClaimsPrincipal user, UnitScope scope,
        CampaignCatalog campaigns, UnitDirectory units, CircularService circulars, TimeProvider clock, CancellationToken ct)
    {
        if (campaigns.Get(campaignId) is not { } campaign) return Problem(StatusCodes.Status404NotFound, "Unknown campaign", $"There is no campaign '{campaignId}'.");
        var code = string.IsNullOrWhiteSpace(unit) ? UnitScope.UnitOf(user) : unit;
        if (string.IsNullOrEmpty(code))
            return Problem(StatusCodes.Status400BadRequest, "Name a unit", "A circular covers one province or city: pass unit=<its code>.");
        var region = units.Region(code);
        if (region is null && units.Organisation(code) is null && DashboardService.TypeOf(code) is null)
            return Problem(StatusCodes.Status404NotFound, "Unknown unit", $"There is no unit '{code}'.");
        if (!scope.Allows(user, code)) return TypedResults.Forbid();
        // A circular ranks a unit's children: a county (the lowest level the statistics keep) or
        // an organisation has none to rank.
        if (region is not { Depth: < 3 } || units.Children(code).Count == 0)
            return Problem(StatusCodes.Status400BadRequest, "Not a province or city", $"'{code}' has no regions below it to rank; circulars cover provinces and cities.");
        if (format is not (null or "docx" or "xlsx"))
            return Problem(StatusCodes.Status400BadRequest, "Unknown format", "format is docx (the circular, the default) or xlsx (its annex).");
        // Parsed here rather than bound as DateOnly: a missing or malformed day then gets this
        // message instead of the framework's bare 400.
        if (Day(from) is not { } first || Day(to) is not { } last)
            return Problem(StatusCodes.Status400BadRequest, "Name the period", "Pass from and to as campaign days (yyyy-MM-dd), e.g. from=2024-06-12&to=2024-06-15.");

        var opens = campaign.Stages.Min(s => s.StartDay);
        var closes = campaign.Stages.Max(s => s.EndDay);
        if (first > last)
            return Problem(StatusCodes.Status400BadRequest, "Period ends before it starts", $"from ({first:yyyy-MM-dd}) is after to ({last:yyyy-MM-dd}).");
        if (last.DayNumber - first.DayNumber > closes.DayNumber - opens.DayNumber)
            return Problem(StatusCodes.Status400BadRequest, "Period longer than the campaign",
                $"{first:yyyy-MM-dd}..{last:yyyy-MM-dd} is longer than the campaign's {closes.DayNumber - opens.DayNumber + 1} days.");
        if (first < opens || last > closes)
            return Problem(StatusCodes.Status400BadRequest, "Period outside the campaign",
                $"The period must lie within the campaign's days, {opens:yyyy-MM-dd}..{closes:yyyy-MM-dd}.");
        // Today may end a period (the evening's dispatch); a day to come would read as a figure of zero.
        if (last > campaign.DayOf(clock.GetUtcNow()))
            return Problem(StatusCodes.Status400BadRequest, "Period not over yet",
                $"to ({last:yyyy-MM-dd}) is after today ({campaign.DayOf(clock.GetUtcNow()):yyyy-MM-dd}, campaign time).");

        var circular = await circulars.BuildAsync(campaign, region, first, last, ct);
        var name = $"{campaign.Id}-{region.Code}-{first:yyyyMMdd}-{last:yyyyMMdd}";
        return format == "xlsx"
            ? TypedResults.File(CircularDocument.Xlsx(circular), Spreadsheets.XlsxType, name + "-annex.xlsx")
            : TypedResults.File(CircularDocument.Docx(circular), CircularDocument.DocxType, name + ".docx");
    }

    private static DateOnly? Day(string? text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day) ? day : null;

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
