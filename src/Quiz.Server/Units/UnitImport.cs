using System.Text;
using Dapper;
using Quiz.Server.Hosting;
using Quiz.Server.Questions;
using Quiz.Server.Storage;

namespace Quiz.Server.Units;

/// <summary>
/// Loads the unit hierarchy from the admins' CSV files (regions.csv, organisations.csv) into the
/// store, checked whole first, then has the <see cref="UnitDirectory"/> read it again.
/// </summary>
public sealed class UnitImport(Database database, UnitDirectory directory)
{
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

        var known = directory.Regions.ToDictionary(r => r.Code);
        var resolved = ResolveRegions(regions, known, errors);
        var allRegionCodes = known.Keys.Concat(resolved.Select(r => r.Code)).ToHashSet();
        var seenOrganisations = new HashSet<string>();
        foreach (var (o, row, file) in organisations)
        {
            if (!CodeOk(o.Code)) errors.Add(new(file, row, "code", $"'{o.Code}' is not a unit code (letters, digits, '-', '_', at most 40)"));
            else if (!seenOrganisations.Add(o.Code)) errors.Add(new(file, row, "code", $"code '{o.Code}' appears twice"));
            if (o.Name.Length is 0 or > 100) errors.Add(new(file, row, "name", "a name of 1 to 100 characters is required"));
            else if (Spreadsheets.StartsLikeFormula(o.Name)) errors.Add(new(file, row, "name", Spreadsheets.FormulaError("name", o.Name)));
            if (!UnitDirectory.OrganisationTypes.Contains(o.Type)) errors.Add(new(file, row, "type", $"'{o.Type}' is not a type: use {string.Join(", ", UnitDirectory.OrganisationTypes)}"));
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
        await directory.LoadAsync(ct);
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
            else if (Spreadsheets.StartsLikeFormula(r.Name)) errors.Add(new(file, row, "name", Spreadsheets.FormulaError("name", r.Name)));
            if (r.Level.Length is 0 or > 20) errors.Add(new(file, row, "level", "a level (province, city, county, ...) is required"));
            else if (Spreadsheets.StartsLikeFormula(r.Level)) errors.Add(new(file, row, "level", Spreadsheets.FormulaError("level", r.Level)));
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
