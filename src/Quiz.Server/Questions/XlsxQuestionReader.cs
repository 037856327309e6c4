using System.Globalization;
using System.IO.Compression;
using System.Xml;
using MiniExcelLibs;

namespace Quiz.Server.Questions;

/// <summary>An XLSX question sheet, laid out as the CSV one on its first sheet; inspected for zip bombs and formulas before it is parsed.</summary>
public static class XlsxQuestionReader
{
    public static void Read(ImportOptions limits, string path, string name, QuestionFileReader.Result result)
    {
        if (!InspectWorkbook(limits, path, name, result)) return;
        var rows = MiniExcel.Query(path, useHeaderRow: false, excelType: ExcelType.XLSX).Cast<IDictionary<string, object?>>();
        Dictionary<int, int>? map = null;
        List<string>? letters = null;
        var row = 0;
        foreach (var cells in rows)
        {
            row++;
            if (map is null)
            {
                letters = cells.Keys.ToList();
                var header = letters.Select(k => Cell(cells[k]) ?? "").ToList();
                while (header.Count > 0 && header[^1].Length == 0) header.RemoveAt(header.Count - 1);
                map = QuestionColumns.MapHeader(header, name, result);
                if (map is null) return;
                continue;
            }
            var values = letters!.Select(k => cells.TryGetValue(k, out var v) ? Cell(v) : null).ToList();
            if (values.All(string.IsNullOrWhiteSpace)) continue;
            if (row - 1 > limits.MaxRows)
            {
                result.Errors.Add(new(name, row, null, $"the sheet has more than {limits.MaxRows:N0} questions (Import:MaxRows); split it"));
                return;
            }
            result.Drafts.Add(QuestionColumns.ToDraft(name, row, i => i < values.Count ? values[i] : null, map));
        }
        if (map is null) result.Errors.Add(new(name, null, null, "the first sheet is empty"));
    }

    private static string? Cell(object? value) => value switch
    {
        null => null,
        double d => d.ToString(CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Before the workbook is parsed: every part is decompressed once through a counting stream, so
    /// a zip bomb stops at the limit instead of filling memory, and formula cells are found (a
    /// formula's cached value is not what the author typed, and it runs when exported again).
    /// </summary>
    private static bool InspectWorkbook(ImportOptions limits, string path, string name, QuestionFileReader.Result result)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            if (zip.Entries.Count > 1000)
            {
                result.Errors.Add(new(name, null, null, $"the workbook has {zip.Entries.Count} parts; that is not a question sheet"));
                return false;
            }
            var declared = zip.Entries.Sum(e => e.Length);
            if (declared > limits.MaxUncompressedBytes)
            {
                result.Errors.Add(new(name, null, null, $"the workbook expands to {declared:N0} bytes, more than the limit of {limits.MaxUncompressedBytes:N0} (Import:MaxUncompressedBytes)"));
                return false;
            }
            if (zip.GetEntry("xl/workbook.xml") is null)
            {
                result.Errors.Add(new(name, null, null, "the file is a zip archive but not an XLSX workbook"));
                return false;
            }
            long budget = limits.MaxUncompressedBytes;
            var formulas = 0;
            foreach (var entry in zip.Entries)
            {
                using var counted = new CappedStream(entry.Open(), budget);
                if (entry.FullName.StartsWith("xl/worksheets/", StringComparison.Ordinal) && entry.FullName.EndsWith(".xml", StringComparison.Ordinal))
                    formulas += FindFormulas(counted, name, result);
                else
                    counted.CopyTo(Stream.Null);
                budget -= counted.Count;
            }
            return formulas == 0;
        }
        catch (CappedStream.LimitException)
        {
            result.Errors.Add(new(name, null, null, $"the workbook expands to more than {limits.MaxUncompressedBytes:N0} bytes (Import:MaxUncompressedBytes)"));
        }
        catch (Exception e) when (e is InvalidDataException or XmlException)
        {
            result.Errors.Add(new(name, null, null, $"the workbook is damaged: {e.Message}"));
        }
        return false;
    }

    private static int FindFormulas(Stream sheet, string name, QuestionFileReader.Result result)
    {
        var found = 0;
        using var xml = XmlReader.Create(sheet, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        string? cell = null;
        while (xml.Read())
        {
            if (xml.NodeType != XmlNodeType.Element) continue;
            if (xml.LocalName == "c") cell = xml.GetAttribute("r");
            else if (xml.LocalName == "f" && found++ < 20)
            {
                var (row, column) = SplitCellReference(cell);
                result.Errors.Add(new(name, row, column, "the cell holds a formula; paste values only"));
            }
        }
        return found;
    }

    private static (int? Row, string? Column) SplitCellReference(string? reference)
    {
        if (string.IsNullOrEmpty(reference)) return (null, null);
        var letters = new string(reference.TakeWhile(char.IsLetter).ToArray());
        return (int.TryParse(reference[letters.Length..], out var row) ? row : null, letters);
    }
}
