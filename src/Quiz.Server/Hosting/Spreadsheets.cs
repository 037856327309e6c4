using System.Globalization;
using System.Text;
using MiniExcelLibs;

namespace Quiz.Server.Hosting;

/// <summary>
/// The one way the server writes tables for people to open in Excel or WPS (CSV and XLSX), and
/// the check its imports make on the cells they read.
/// Text that a spreadsheet would run as a formula (CSV injection, e.g. a unit named
/// <c>=cmd|' /C calc'!A0</c>): imports refuse it, and exports defuse what is in the store anyway,
/// as OWASP's CSV-injection advice says: a cell starting with = + - @, tab or CR gets a leading
/// single quote, which the spreadsheet shows as text and never runs.
/// </summary>
public static class Spreadsheets
{
    public const string CsvType = "text/csv; charset=utf-8";
    public const string XlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    public static bool StartsLikeFormula(string text) => text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    /// <summary>The import error for a field that starts like a formula.</summary>
    public static string FormulaError(string column, string text) =>
        $"{column} starts with '{text[0]}' and would be taken as a spreadsheet formula; remove that character";

    /// <summary>A text cell for an export: shown as written, never run.</summary>
    public static string Defuse(string text) => StartsLikeFormula(text) ? "'" + text : text;

    /// <summary>A CSV field, quoted when it holds a comma, a quote or a line break.</summary>
    public static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;

    /// <summary>
    /// Rows as CSV for Excel: UTF-8 with a BOM (or Excel misreads the Chinese), CRLF, the columns of
    /// <paramref name="header"/> in order; text defused and quoted, decimals with two digits, other
    /// numbers as the invariant culture writes them (never 2E-06: send those as decimals).
    /// </summary>
    public static byte[] Csv(IReadOnlyList<string> header, IEnumerable<IReadOnlyDictionary<string, object?>> rows)
    {
        var text = new StringBuilder();
        text.AppendJoin(',', header.Select(h => Quote(Defuse(h)))).Append("\r\n");
        foreach (var row in rows)
            text.AppendJoin(',', header.Select(column => Cell(row.GetValueOrDefault(column)))).Append("\r\n");
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text.ToString())];
    }

    private static string Cell(object? value) => value switch
    {
        null => "",
        string text => Quote(Defuse(text)),
        decimal figure => figure.ToString("0.00", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The same rows as one XLSX sheet (built in memory), text defused; numbers stay numbers.</summary>
    public static byte[] Xlsx(IReadOnlyList<string> header, IEnumerable<IReadOnlyDictionary<string, object?>> rows)
    {
        var sheet = rows.Select(row => header.ToDictionary(column => column, column => row.GetValueOrDefault(column) is string text ? Defuse(text) : row.GetValueOrDefault(column))).ToList();
        using var stream = new MemoryStream();
        stream.SaveAs(sheet, excelType: ExcelType.XLSX, configuration: XlsxWriting);
        return stream.ToArray();
    }

    /// <summary>
    /// MiniExcel writes each part of the file (sheet, workbook, styles...) through a writer with a
    /// buffer of 512 K characters by default: 1 MB of characters and 1.5 MB of bytes a part, all on
    /// the large object heap, ~15 MB for a file of one row. Large objects count towards a full
    /// collection: a node issuing the day's circulars made 37 background gen-2 collections in two
    /// seconds (BENCHMARKS.md). 16 K characters keep both buffers small objects.
    /// </summary>
    private static readonly MiniExcelLibs.OpenXml.OpenXmlConfiguration XlsxWriting = new() { BufferSize = 16 * 1024 };
}
