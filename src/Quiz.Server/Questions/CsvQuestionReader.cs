using System.Text;

namespace Quiz.Server.Questions;

/// <summary>A CSV question sheet: one header row of <see cref="QuestionFileReader.Columns"/>, then a question a row, in UTF-8 or GB18030.</summary>
public static class CsvQuestionReader
{
    // GB18030 is not built into .NET: the code pages provider brings it.
    static CsvQuestionReader() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static async Task ReadAsync(ImportOptions limits, string path, string name, QuestionFileReader.Result result, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        await ReadAsync(limits, stream, name, result, ct);
    }

    /// <summary>Reads from a seekable stream and leaves it open: a test reads its position to see how far the read went.</summary>
    internal static async Task ReadAsync(ImportOptions limits, Stream stream, string name, QuestionFileReader.Result result, CancellationToken ct)
    {
        var encoding = await DetectEncodingAsync(stream, ct);
        stream.Position = 0;
        using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
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
            var map = QuestionColumns.MapHeader(header, name, result);
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
                result.Drafts.Add(QuestionColumns.ToDraft(name, row, i => i < record.Count ? record[i] : null, map));
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
}
