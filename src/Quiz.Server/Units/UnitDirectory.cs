using System.Collections.Frozen;
using System.Text;
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

    // ---- import ---------------------------------------------------------------------------

    public sealed record ImportResult(int Regions, int Organisations, IReadOnlyList<ImportError> Errors)
    {
        public bool Ok => Errors.Count == 0;
    }

    /// <summary>
    /// Imports regions.csv and/or organisations.csv (told apart by their header). All or nothing;
    /// existing units are updated in place and never deleted, since participants point at them.
    /// </summary>
    public async Task<ImportResult> ImportAsync(IReadOnlyList<(string Path, string Name)> files, CancellationToken ct = default)
    {
        var errors = new List<ImportError>();
        var regions = new List<(Region Region, int Row, string File)>();
        var organisations = new List<(Organisation Organisation, int Row, string File)>();
        foreach (var (path, name) in files)
        {
            if (!name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(new(name, null, null, "units are imported from .csv files"));
                continue;
            }
            var rows = await ReadCsvAsync(path, name, errors, ct);
            if (rows is null) continue;
            var header = rows.Header;
            // target_base is optional: the target headcount officials set, for campaigns that rate by it.
            if (header.SequenceEqual(["code", "name", "parent_code", "level", "headcount_base"]) ||
                header.SequenceEqual(["code", "name", "parent_code", "level", "headcount_base", "target_base"]))
                foreach (var (row, cells) in rows.Rows)
                {
                    var target = cells.Count > 5 && !string.IsNullOrWhiteSpace(cells[5]) ? ParseBase(cells[5], name, row, errors, "target_base") : null;
                    if (ParseBase(cells[4], name, row, errors) is { } headcount && (target is not null || cells.Count <= 5 || string.IsNullOrWhiteSpace(cells[5])))
                        regions.Add((new Region(cells[0].Trim(), cells[1].Trim(), NullIfEmpty(cells[2]), cells[3].Trim(), 0, headcount, target), row, name));
                }
            else if (header.SequenceEqual(["code", "name", "type", "region_code", "headcount_base", "demo"]))
                foreach (var (row, cells) in rows.Rows)
                {
                    if (ParseBase(cells[4], name, row, errors) is { } headcount)
                        organisations.Add((new Organisation(cells[0].Trim(), cells[1].Trim(), cells[2].Trim(), cells[3].Trim(), headcount,
                            cells[5].Trim().Equals("true", StringComparison.OrdinalIgnoreCase) ? 1 : 0), row, name));
                }
            else
                errors.Add(new(name, 1, null,
                    "unknown header: regions need code,name,parent_code,level,headcount_base (and optionally target_base); organisations need code,name,type,region_code,headcount_base,demo"));
        }

        var known = _snapshot.Regions.Values.ToDictionary(r => r.Code);
        var resolved = ResolveRegions(regions, known, errors);
        var allRegionCodes = known.Keys.Concat(resolved.Select(r => r.Code)).ToHashSet();
        var seenOrganisations = new HashSet<string>();
        foreach (var (o, row, file) in organisations)
        {
            if (!CodeOk(o.Code)) errors.Add(new(file, row, "code", $"'{o.Code}' is not a unit code (letters, digits, '-', '_', at most 40)"));
            else if (!seenOrganisations.Add(o.Code)) errors.Add(new(file, row, "code", $"code '{o.Code}' appears twice"));
            if (o.Name.Length is 0 or > 100) errors.Add(new(file, row, "name", "a name of 1 to 100 characters is required"));
            else if (SpreadsheetCells.StartsLikeFormula(o.Name)) errors.Add(new(file, row, "name", SpreadsheetCells.FormulaError("name", o.Name)));
            if (!OrganisationTypes.Contains(o.Type)) errors.Add(new(file, row, "type", $"'{o.Type}' is not a type: use {string.Join(", ", OrganisationTypes)}"));
            if (!allRegionCodes.Contains(o.RegionCode)) errors.Add(new(file, row, "region_code", $"region '{o.RegionCode}' does not exist"));
        }
        if (errors.Count > 0) return new ImportResult(0, 0, errors);

        await using (var connection = await database.OpenAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            foreach (var region in resolved.OrderBy(r => r.Depth))
                await connection.ExecuteAsync("""
                    INSERT INTO regions (code, name, parent_code, level, depth, headcount_base, target_base)
                    VALUES (@Code, @Name, @ParentCode, @Level, @Depth, @HeadcountBase, @TargetBase)
                    ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code,
                        level = excluded.level, depth = excluded.depth, headcount_base = excluded.headcount_base, target_base = excluded.target_base
                    """, region, tx);
            foreach (var (organisation, _, _) in organisations)
                await connection.ExecuteAsync("""
                    INSERT INTO organisations (code, name, type, region_code, headcount_base, demo)
                    VALUES (@Code, @Name, @Type, @RegionCode, @HeadcountBase, @Demo)
                    ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type,
                        region_code = excluded.region_code, headcount_base = excluded.headcount_base, demo = excluded.demo
                    """, organisation, tx);
            await tx.CommitAsync(ct);
        }
        await LoadAsync(ct);
        return new ImportResult(resolved.Count, organisations.Count, errors);
    }

    /// <summary>Checks codes and parents, and works out each region's depth from its parent chain.</summary>
    private static List<Region> ResolveRegions(List<(Region Region, int Row, string File)> rows, Dictionary<string, Region> known, List<ImportError> errors)
    {
        var incoming = new Dictionary<string, (Region Region, int Row, string File)>();
        foreach (var item in rows)
        {
            var (r, row, file) = item;
            if (!CodeOk(r.Code)) errors.Add(new(file, row, "code", $"'{r.Code}' is not a unit code (letters, digits, '-', '_', at most 40)"));
            else if (!incoming.TryAdd(r.Code, item)) errors.Add(new(file, row, "code", $"code '{r.Code}' appears twice"));
            // Names and levels go out again in dashboard exports: refused like a question's text when they start like a formula.
            if (r.Name.Length is 0 or > 100) errors.Add(new(file, row, "name", "a name of 1 to 100 characters is required"));
            else if (SpreadsheetCells.StartsLikeFormula(r.Name)) errors.Add(new(file, row, "name", SpreadsheetCells.FormulaError("name", r.Name)));
            if (r.Level.Length is 0 or > 20) errors.Add(new(file, row, "level", "a level (province, city, county, ...) is required"));
            else if (SpreadsheetCells.StartsLikeFormula(r.Level)) errors.Add(new(file, row, "level", SpreadsheetCells.FormulaError("level", r.Level)));
        }
        var resolved = new List<Region>();
        foreach (var (code, (region, row, file)) in incoming)
        {
            var depth = 1L;
            var parent = region.ParentCode;
            var seen = new HashSet<string> { code };
            var broken = false;
            while (parent is not null)
            {
                if (!seen.Add(parent)) { errors.Add(new(file, row, "parent_code", "the parent chain loops")); broken = true; break; }
                if (incoming.TryGetValue(parent, out var p)) parent = p.Region.ParentCode;
                else if (known.TryGetValue(parent, out var k)) { depth += k.Depth; break; }
                else { errors.Add(new(file, row, "parent_code", $"parent '{parent}' does not exist")); broken = true; break; }
                depth++;
            }
            if (!broken) resolved.Add(region with { Depth = depth });
        }
        return resolved;
    }

    private static long? ParseBase(string text, string file, int row, List<ImportError> errors, string column = "headcount_base")
    {
        if (long.TryParse(text.Trim(), out var value) && value > 0) return value;
        errors.Add(new(file, row, column, $"'{text}' is not a positive whole number"));
        return null;
    }

    private static bool CodeOk(string code) => code.Length is > 0 and <= 40 && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static string? NullIfEmpty(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private sealed record CsvRows(List<string> Header, List<(int Row, List<string> Cells)> Rows);

    private static async Task<CsvRows?> ReadCsvAsync(string path, string name, List<ImportError> errors, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        var encoding = await CsvQuestionReader.DetectEncodingAsync(stream, ct);
        stream.Position = 0;
        using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: false);
        var csv = new CsvParser(reader, maxFieldChars: 400);
        try
        {
            var header = csv.ReadRecord()?.Select(h => h.Trim().TrimStart('\uFEFF').ToLowerInvariant()).ToList();
            if (header is null)
            {
                errors.Add(new(name, null, null, "the file is empty"));
                return null;
            }
            var rows = new List<(int, List<string>)>();
            var row = 1;
            while (csv.ReadRecord() is { } record)
            {
                row++;
                if (record.All(string.IsNullOrWhiteSpace)) continue;
                if (rows.Count >= 200_000)
                {
                    errors.Add(new(name, row, null, "more than 200,000 units in one file"));
                    return null;
                }
                if (record.Count != header.Count)
                {
                    errors.Add(new(name, row, null, $"{record.Count} columns, the header has {header.Count}"));
                    continue;
                }
                rows.Add((row, record));
            }
            return new CsvRows(header, rows);
        }
        catch (CsvParser.FieldTooLongException e)
        {
            errors.Add(new(name, e.Row, null, "a field is longer than 400 characters"));
        }
        catch (DecoderFallbackException)
        {
            errors.Add(new(name, csv.Row, null, "the file is not valid UTF-8 or GB18030 text"));
        }
        return null;
    }
}
