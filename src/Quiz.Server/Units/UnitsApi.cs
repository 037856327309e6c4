using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Quiz.Server.Security;
using Quiz.Server.Admin;
using Quiz.Server.Events;
using Quiz.Server.Questions;

namespace Quiz.Server.Units;

public static class UnitsApi
{
    public static IHostApplicationBuilder AddUnits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<UnitDirectory>();
        builder.Services.AddSingleton<UnitImport>();
        return builder;
    }

    public static IEndpointRouteBuilder MapUnits(this IEndpointRouteBuilder routes)
    {
        // Public: the registration page's cascading picker and organisation search.
        var lookup = routes.MapGroup("/api/units").WithTags("Units");
        lookup.MapGet("/regions", Regions).WithSummary("Child regions of a region, or the provinces when no parent is given.");
        lookup.MapGet("/regions/{code}", RegionByCode).WithSummary("One region with its path from the top.");
        lookup.MapGet("/organisations", Organisations).WithSummary("Organisations by name, region and type.");

        var admin = routes.MapGroup("/api/admin/units").WithTags("Units").RequireAdmin();
        admin.MapPost("/import", Import).WithSummary("Import regions.csv and/or organisations.csv (multipart); all or nothing.");
        return routes;
    }

    public sealed record RegionView(string Code, string Name, string Level, bool HasChildren, long HeadcountBase, long? TargetBase);
    public sealed record RegionDetail(string Code, string Name, string Level, IReadOnlyList<RegionView> Path);
    public sealed record OrganisationView(string Code, string Name, string Type, string RegionCode);

    private static RegionView View(UnitDirectory units, Region r) => new(r.Code, r.Name, r.Level, !units.IsLowestLevel(r.Code), r.HeadcountBase, r.TargetBase);

    private static Results<Ok<List<RegionView>>, NotFound> Regions(UnitDirectory units, string? parent)
    {
        if (parent is not null && units.Region(parent) is null) return TypedResults.NotFound();
        return TypedResults.Ok(units.Children(parent).Select(r => View(units, r)).ToList());
    }

    private static Results<Ok<RegionDetail>, NotFound> RegionByCode(UnitDirectory units, string code) =>
        units.Region(code) is { } region
            ? TypedResults.Ok(new RegionDetail(region.Code, region.Name, region.Level,
                units.PathOf(code).Select(c => View(units, units.Region(c)!)).ToList()))
            : TypedResults.NotFound();

    private static Ok<List<OrganisationView>> Organisations(UnitDirectory units, string? q, string? region, string? type, int? limit) =>
        TypedResults.Ok(units.SearchOrganisations(q, region, type, limit ?? 20)
            .Select(o => new OrganisationView(o.Code, o.Name, o.Type, o.RegionCode)).ToList());

    private static async Task<Results<Ok<UnitImport.ImportResult>, BadRequest<UnitImport.ImportResult>, ProblemHttpResult>> Import(
        HttpRequest request, UnitImport units, ReferenceDataSync nodes, IOptions<ImportOptions> options, CancellationToken ct)
    {
        var (uploads, problem) = await Uploads.ReceiveAsync(request, options.Value.MaxFileBytes, 10, ct);
        if (uploads is null) return problem!;
        await using (uploads)
        {
            var result = await units.ImportAsync(uploads.Files, ct);
            if (!result.Ok) return TypedResults.BadRequest(result);
            await nodes.AnnounceAsync(ReferenceData.Units);
            return TypedResults.Ok(result);
        }
    }
}
