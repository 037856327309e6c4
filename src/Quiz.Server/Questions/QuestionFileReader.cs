
namespace Quiz.Server.Questions;

/// <summary>
/// Reads question files (JSON, CSV, XLSX) into drafts, streaming, within the configured limits.
/// A file that is not what its name says, or breaks a limit, becomes an error, never an exception.
/// This class checks the file and hands it to the reader of its format (<see cref="CsvQuestionReader"/>,
/// <see cref="XlsxQuestionReader"/>, <see cref="JsonQuestionReader"/>); the two tabular ones share
/// <see cref="QuestionColumns"/>.
/// </summary>
public sealed class QuestionFileReader(ImportOptions limits)
{
    public static readonly string[] Columns =
    [
        "id", "type", "stem", .. Enumerable.Range(0, QuestionValidator.MaxOptions).Select(QuestionValidator.OptionColumn),
        "answer", "explanation", "source", "tracks", "category", "difficulty", "tags",
    ];

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
                    XlsxQuestionReader.Read(limits, path, name, result);
                    break;
                case ".csv" or ".json" when isZip:
                    result.Errors.Add(new(name, null, null, $"the file is named {extension} but is a zip archive (an XLSX workbook?); name it .xlsx"));
                    break;
                case ".csv" or ".json" when isBinary:
                    result.Errors.Add(new(name, null, null, $"the file is named {extension} but is not a text file"));
                    break;
                case ".csv":
                    await CsvQuestionReader.ReadAsync(limits, path, name, result, ct);
                    break;
                case ".json":
                    await JsonQuestionReader.ReadAsync(limits, path, name, result, ct);
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
}
