namespace Quiz.Server.Questions;

/// <summary>
/// One question as read from a file, before validation: every field is the raw text the author
/// wrote, so the validator can name exactly what is wrong and where.
/// </summary>
public sealed class QuestionDraft
{
    public required string File { get; init; }
    /// <summary>Spreadsheet row (header is row 1) for CSV/XLSX; position in the list for JSON.</summary>
    public required int Row { get; init; }

    public string? Id { get; set; }
    public string? Type { get; set; }
    public string? Stem { get; set; }
    public List<string?> Options { get; } = [];
    public string? Answer { get; set; }
    public string? Explanation { get; set; }
    public string? Source { get; set; }
    public List<string?> Tracks { get; } = [];
    public string? Category { get; set; }
    public string? Difficulty { get; set; }
    public List<string?> Tags { get; } = [];
}

/// <summary>One problem with an import: which file, row and column, and why.</summary>
public sealed record ImportError(string File, int? Row, string? Column, string Reason)
{
    public override string ToString() =>
        Row is null ? $"{File}: {Reason}" : $"{File}, row {Row}{(Column is null ? "" : $", column {Column}")}: {Reason}";
}
