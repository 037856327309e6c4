using System.Collections.Frozen;
using Dapper;
using Quiz.Server.Campaigns;
using Quiz.Server.Questions;
using Quiz.Server.Storage;

namespace Quiz.Server.Units;

/// <param name="HeadcountBase">Resident adults: the base of the participation rate by default.</param>
/// <param name="TargetBase">The headcount officials set as the target (e.g. 20 % of residents aged 18–60), when given;
/// a campaign with <c>headcountBase: "target"</c> rates by it (<see cref="UnitDirectory.BaseOf"/>).</param>
public sealed record Region(string Code, string Name, string? ParentCode, string Level, long Depth, long HeadcountBase, long? TargetBase = null);

public sealed record Organisation(string Code, string Name, string Type, string RegionCode, long HeadcountBase, long Demo)
{
    public bool IsDemo => Demo != 0;
}

/// <summary>
/// The unit hierarchy: stored in the store, served from an in-memory snapshot (a few thousand
/// units) that is swapped whole after an import, so lookups on the hot path never hit the store.
/// </summary>
public sealed class UnitDirectory(Database database)
{
    public static readonly string[] OrganisationTypes = ["bank", "insurer", "university", "government", "enterprise"];

    private sealed record Snapshot(
        FrozenDictionary<string, Region> Regions,
        FrozenDictionary<string, Region[]> Children,
        FrozenDictionary<string, Organisation> Organisations);

    private Snapshot _snapshot = new(FrozenDictionary<string, Region>.Empty, FrozenDictionary<string, Region[]>.Empty,
        FrozenDictionary<string, Organisation>.Empty);

    /// <summary>One load at a time: a load that read the store earlier must not replace what a later one read.</summary>
    private readonly SemaphoreSlim _loading = new(1, 1);

    public async Task LoadAsync(CancellationToken ct = default)
    {
        await _loading.WaitAsync(ct);
        try
        {
            await using var connection = await database.OpenAsync(ct);
            var regions = (await connection.QueryAsync<Region>(
                "SELECT code, name, parent_code AS ParentCode, level, depth, headcount_base AS HeadcountBase, target_base AS TargetBase FROM regions ORDER BY code")).ToList();
            var organisations = (await connection.QueryAsync<Organisation>(
                "SELECT code, name, type, region_code AS RegionCode, headcount_base AS HeadcountBase, demo FROM organisations ORDER BY code")).ToList();
            _snapshot = new Snapshot(
                regions.ToFrozenDictionary(r => r.Code),
                regions.GroupBy(r => r.ParentCode ?? "").ToFrozenDictionary(g => g.Key, g => g.ToArray()),
                organisations.ToFrozenDictionary(o => o.Code));
        }
        finally { _loading.Release(); }
        Changed?.Invoke();
    }

    /// <summary>Raised after the units were (re)loaded, e.g. so the ranking reloads the headcount bases.</summary>
    public event Action? Changed;

    public Region? Region(string code) => _snapshot.Regions.GetValueOrDefault(code);
    public Organisation? Organisation(string code) => _snapshot.Organisations.GetValueOrDefault(code);
    public IReadOnlyCollection<Region> Regions => _snapshot.Regions.Values;
    public IReadOnlyCollection<Organisation> Organisations => _snapshot.Organisations.Values;

    /// <summary>Children of a region, or the top level (provinces) for null.</summary>
    public IReadOnlyList<Region> Children(string? parentCode) => _snapshot.Children.GetValueOrDefault(parentCode ?? "") ?? [];

    public bool IsLowestLevel(string code) => Children(code).Count == 0;

    /// <summary>A region's code and the codes of every region below it: the people a unit counts.</summary>
    public IEnumerable<string> Subtree(string code) => Children(code).SelectMany(c => Subtree(c.Code)).Prepend(code);

    /// <summary>The codes from the top level down to this region.</summary>
    public IReadOnlyList<string> PathOf(string code)
    {
        var path = new List<string>();
        for (var region = Region(code); region is not null; region = region.ParentCode is null ? null : Region(region.ParentCode))
            path.Insert(0, region.Code);
        return path;
    }

    /// <summary>
    /// A unit's headcount base of a kind. Organisations always count their staff (or students).
    /// A region's target base, when the import gave none for it, is the sum of its children's
    /// (the ranking engine's rule for a base of 0), so a province rolls up its counties' targets.
    /// </summary>
    public long BaseOf(string code, HeadcountBase kind)
    {
        if (Region(code) is not { } region) return Organisation(code)?.HeadcountBase ?? 0;
        if (kind == Campaigns.HeadcountBase.Residents) return region.HeadcountBase;
        return region.TargetBase ?? Children(code).Sum(c => BaseOf(c.Code, kind));
    }

    public IReadOnlyList<Organisation> SearchOrganisations(string? query, string? regionCode, string? type, int limit) =>
        _snapshot.Organisations.Values
            .Where(o => string.IsNullOrWhiteSpace(query) || o.Name.Contains(query.Trim(), StringComparison.OrdinalIgnoreCase) || o.Code.Equals(query.Trim(), StringComparison.OrdinalIgnoreCase))
            .Where(o => regionCode is null || PathOf(o.RegionCode).Contains(regionCode))
            .Where(o => type is null || o.Type == type)
            .OrderBy(o => o.Name, StringComparer.Ordinal)
            .Take(Math.Clamp(limit, 1, 100))
            .ToList();
}
