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
/// DOCX officers edit and send, or its XLSX annex. Beside the dashboard's own files (same route
/// prefix, same staff policy and unit scope), since a circular quotes the dashboard's figures.
/// </summary>
public static class CircularsApi
{
    public static IHostApplicationBuilder AddCirculars(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CircularService>();
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
        return routes;
    }

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
