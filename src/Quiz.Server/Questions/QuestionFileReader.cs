using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Xml;
using MiniExcelLibs;

namespace Quiz.Server.Questions;

/// <summary>
/// Reads question files (JSON, CSV, XLSX) into drafts, streaming, within the configured limits.
/// A file that is not what its name says, or breaks a limit, becomes an error, never an exception.
/// </summary>
public sealed class QuestionFileReader(ImportOptions limits)
{
    public static readonly string[] Columns =
    [
        "id", "type", "stem", .. Enumerable.Range(0, QuestionValidator.MaxOptions).Select(QuestionValidator.OptionColumn),
        "answer", "explanation", "source", "tracks", "category", "difficulty", "tags",
    ];

    private static readonly string[] RequiredColumns =
        ["id", "type", "stem", "option_a", "option_b", "answer", "explanation", "source", "tracks", "category", "difficulty"];

    static QuestionFileReader() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public sealed class Result
    {
        public List<QuestionDraft> Drafts { get; } = [];
        public List<ImportError> Errors { get; } = [];
    }

    /// <summary>Reads one file; <paramref name="name"/> is how errors name it.</summary>
    public async Task<Result> ReadAsync(string path, string name, CancellationToken ct = default)
    {
        var result = new Result();
        try
        {
            var length = new FileInfo(path).Length;
            if (length > limits.MaxFileBytes)
            {
                result.Errors.Add(new(name, null, null, $"the file is {length:N0} bytes, larger than the limit of {limits.MaxFileBytes:N0} (Import:MaxFileBytes)"));
                return result;
            }
            if (length == 0)
            {
                result.Errors.Add(new(name, null, null, "the file is empty"));
                return result;
            }

            var extension = Path.GetExtension(name).ToLowerInvariant();
            var head = new byte[4096];
            int read;
            await using (var probe = File.OpenRead(path)) read = await probe.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
            var isZip = read >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
            var isBinary = !isZip && head.AsSpan(0, read).Contains((byte)0);

            switch (extension)
            {
                case ".xlsx" when !isZip:
                    result.Errors.Add(new(name, null, null, "the file is named .xlsx but is not an XLSX workbook"));
                    break;
                case ".xlsx":
                    ReadXlsx(path, name, result);
                    break;
                case ".csv" or ".json" when isZip:
                    result.Errors.Add(new(name, null, null, $"the file is named {extension} but is a zip archive (an XLSX workbook?); name it .xlsx"));
                    break;
                case ".csv" or ".json" when isBinary:
                    result.Errors.Add(new(name, null, null, $"the file is named {extension} but is not a text file"));
                    break;
                case ".csv":
                    await ReadCsvAsync(path, name, result, ct);
                    break;
                case ".json":
                    await ReadJsonAsync(path, name, result, ct);
                    break;
                default:
                    result.Errors.Add(new(name, null, null, $"'{extension}' files are not question sets: use .json, .csv or .xlsx"));
                    break;
            }
        }
        catch (IOException e)
        {
            result.Errors.Add(new(name, null, null, $"the file could not be read: {e.Message}"));
        }
        return result;
    }

    // ---- CSV ------------------------------------------------------------------------------

    private async Task ReadCsvAsync(string path, string name, Result result, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        var encoding = await DetectEncodingAsync(stream, ct);
        stream.Position = 0;
        using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: false);
        var csv = new CsvParser(reader, limits.MaxFieldChars);
        try
        {
            var header = csv.ReadRecord();
            if (header is null)
            {
                result.Errors.Add(new(name, null, null, "the file has no header row"));
                return;
            }
            if (header.Count > 0) header[0] = header[0].TrimStart('\uFEFF');
            var map = MapHeader(header, name, result);
            if (map is null) return;

            var row = 1;
            while (csv.ReadRecord() is { } record)
            {
                row++;
                if (record.All(string.IsNullOrWhiteSpace)) continue;
                if (row - 1 > limits.MaxRows)
                {
                    result.Errors.Add(new(name, row, null, $"the file has more than {limits.MaxRows:N0} questions (Import:MaxRows); split it"));
                    return;
                }
                result.Drafts.Add(ToDraft(name, row, i => i < record.Count ? record[i] : null, map));
            }
        }
        catch (CsvParser.FieldTooLongException e)
        {
            result.Errors.Add(new(name, e.Row, null, $"a field is longer than {limits.MaxFieldChars:N0} characters (Import:MaxFieldChars); is this a CSV file?"));
        }
        catch (DecoderFallbackException)
        {
            result.Errors.Add(new(name, csv.Row, null, $"the file is not valid {(encoding is UTF8Encoding ? "UTF-8" : "GB18030")} text; save it as CSV UTF-8 or GB18030"));
        }
    }

    /// <summary>
    /// Excel in China saves CSV as GB18030 (GBK); Excel's "CSV UTF-8" adds a BOM; other tools write
    /// UTF-8 without one. A file whose first 64 KB are valid UTF-8 is taken as UTF-8, else GB18030;
    /// both decoders throw on invalid bytes so garbage is reported, never imported.
    /// </summary>
    internal static async Task<Encoding> DetectEncodingAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
        var span = buffer.AsSpan(0, read);
        var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return strictUtf8;
        // A full buffer may end inside a multi-byte character: forgive up to 3 trailing bytes.
        for (var cut = 0; cut <= (read == buffer.Length ? 3 : 0); cut++)
            if (System.Text.Unicode.Utf8.IsValid(span[..(read - cut)])) return strictUtf8;
        return Encoding.GetEncoding("GB18030", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
    }

    // ---- XLSX -----------------------------------------------------------------------------

    private void ReadXlsx(string path, string name, Result result)
    {
        if (!InspectWorkbook(path, name, result)) return;
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
                map = MapHeader(header, name, result);
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
            result.Drafts.Add(ToDraft(name, row, i => i < values.Count ? values[i] : null, map));
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
    private bool InspectWorkbook(string path, string name, Result result)
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

    private static int FindFormulas(Stream sheet, string name, Result result)
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

    // ---- JSON -----------------------------------------------------------------------------

    private async Task ReadJsonAsync(string path, string name, Result result, CancellationToken ct)
    {
        JsonDocument document;
        await using (var stream = File.OpenRead(path))
        {
            try
            {
                document = await JsonDocument.ParseAsync(stream, new JsonDocumentOptions { MaxDepth = 16 }, ct);
            }
            catch (JsonException e)
            {
                var reason = e.InnerException is DecoderFallbackException or InvalidOperationException || e.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase)
                    ? "the file is not valid UTF-8 text"
                    : $"the file is not valid JSON: {e.Message}";
                result.Errors.Add(new(name, e.LineNumber is { } line ? (int)line + 1 : null, null, reason));
                return;
            }
            catch (Exception e) when (e is DecoderFallbackException or ArgumentException or InvalidOperationException)
            {
                result.Errors.Add(new(name, null, null, "the file is not valid UTF-8 text"));
                return;
            }
        }
        using (document)
        {
            var root = document.RootElement;
            var list = root.ValueKind switch
            {
                JsonValueKind.Array => root,
                JsonValueKind.Object when root.TryGetProperty("questions", out var q) && q.ValueKind == JsonValueKind.Array => q,
                _ => (JsonElement?)null,
            };
            if (list is null)
            {
                result.Errors.Add(new(name, null, null, "expected an object with a \"questions\" array (see the template)"));
                return;
            }
            var index = 0;
            foreach (var item in list.Value.EnumerateArray())
            {
                index++;
                if (index > limits.MaxRows)
                {
                    result.Errors.Add(new(name, index, null, $"the file has more than {limits.MaxRows:N0} questions (Import:MaxRows); split it"));
                    return;
                }
                if (item.ValueKind != JsonValueKind.Object)
                {
                    result.Errors.Add(new(name, index, null, "each question is a JSON object"));
                    continue;
                }
                try
                {
                    result.Drafts.Add(FromJson(name, index, item, result));
                }
                catch (InvalidOperationException)
                {
                    // JsonDocument checks UTF-8 inside strings only when they are read.
                    result.Errors.Add(new(name, index, null, "the file is not valid UTF-8 text"));
                    return;
                }
            }
        }
    }

    private static QuestionDraft FromJson(string name, int index, JsonElement item, Result result)
    {
        var draft = new QuestionDraft { File = name, Row = index };
        foreach (var property in item.EnumerateObject())
        {
            switch (property.Name)
            {
                case "id": draft.Id = Scalar(property.Value); break;
                case "type": draft.Type = Scalar(property.Value); break;
                case "stem": draft.Stem = Scalar(property.Value); break;
                case "answer": draft.Answer = Scalar(property.Value); break;
                case "explanation": draft.Explanation = Scalar(property.Value); break;
                case "source": draft.Source = Scalar(property.Value); break;
                case "category": draft.Category = Scalar(property.Value); break;
                case "difficulty": draft.Difficulty = Scalar(property.Value); break;
                case "options": draft.Options.AddRange(List(property.Value, split: false)); break;
                case "tracks": draft.Tracks.AddRange(List(property.Value, split: true)); break;
                case "tags": draft.Tags.AddRange(List(property.Value, split: true)); break;
                default:
                    result.Errors.Add(new(name, index, property.Name, $"unknown field '{property.Name}'"));
                    break;
            }
        }
        return draft;
    }

    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => null,
    };

    private static IEnumerable<string?> List(JsonElement value, bool split) => value.ValueKind switch
    {
        JsonValueKind.Array => value.EnumerateArray().Select(Scalar),
        JsonValueKind.String when split => SplitList(value.GetString()),
        JsonValueKind.String => [value.GetString()],
        _ => [],
    };

    // ---- shared ---------------------------------------------------------------------------

    /// <summary>Column index → field name, or null (with errors) when the header is unusable.</summary>
    private static Dictionary<int, int>? MapHeader(List<string> header, string name, Result result)
    {
        var map = new Dictionary<int, int>();
        var ok = true;
        for (var i = 0; i < header.Count; i++)
        {
            var column = header[i].Trim().ToLowerInvariant();
            var field = Array.IndexOf(Columns, column);
            if (field < 0)
            {
                result.Errors.Add(new(name, 1, header[i], $"unknown column '{header[i]}'; the columns are {string.Join(", ", Columns)}"));
                ok = false;
            }
            else if (map.ContainsValue(field))
            {
                result.Errors.Add(new(name, 1, header[i], $"column '{column}' appears twice"));
                ok = false;
            }
            else map[i] = field;
        }
        foreach (var missing in RequiredColumns.Where(c => !map.ContainsValue(Array.IndexOf(Columns, c))))
        {
            result.Errors.Add(new(name, 1, missing, $"the header has no '{missing}' column"));
            ok = false;
        }
        return ok ? map : null;
    }

    private static QuestionDraft ToDraft(string name, int row, Func<int, string?> value, Dictionary<int, int> map)
    {
        var draft = new QuestionDraft { File = name, Row = row };
        var options = new string?[QuestionValidator.MaxOptions];
        foreach (var (index, field) in map)
        {
            var text = value(index);
            switch (Columns[field])
            {
                case "id": draft.Id = text; break;
                case "type": draft.Type = text; break;
                case "stem": draft.Stem = text; break;
                case "answer": draft.Answer = text; break;
                case "explanation": draft.Explanation = text; break;
                case "source": draft.Source = text; break;
                case "category": draft.Category = text; break;
                case "difficulty": draft.Difficulty = text; break;
                case "tracks": draft.Tracks.AddRange(SplitList(text)); break;
                case "tags": draft.Tags.AddRange(SplitList(text)); break;
                default: options[field - 3] = text; break; // option_a … option_h follow id, type, stem
            }
        }
        // Empty option columns are skipped, but a gap (a, b, d) would shift the key's letters.
        var last = Array.FindLastIndex(options, o => !string.IsNullOrWhiteSpace(o));
        for (var i = 0; i <= last; i++) draft.Options.Add(options[i]);
        return draft;
    }

    private static IEnumerable<string?> SplitList(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : text.Split(['|', '、', ';', '；'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
