namespace Quiz.Server.Questions;

/// <summary>Limits that keep a hostile or mistaken file from hurting the server. Section "Import".</summary>
public sealed record ImportOptions
{
    public const string Section = "Import";

    /// <summary>Largest upload or file accepted, in bytes.</summary>
    public long MaxFileBytes { get; init; } = 20 * 1024 * 1024;

    /// <summary>Most questions one file may hold.</summary>
    public int MaxRows { get; init; } = 20_000;

    /// <summary>Most bytes an XLSX may expand to when unzipped (zip bombs).</summary>
    public long MaxUncompressedBytes { get; init; } = 100 * 1024 * 1024;

    /// <summary>Longest single CSV field, in characters: a file with no line breaks is cut off here.</summary>
    public int MaxFieldChars { get; init; } = 4_000;

    /// <summary>Most files one import may read.</summary>
    public int MaxFiles { get; init; } = 200;

    public void Validate()
    {
        if (MaxFileBytes < 1 || MaxRows < 1 || MaxUncompressedBytes < 1 || MaxFieldChars < 1 || MaxFiles < 1)
            throw new ArgumentException("Import: every limit (MaxFileBytes, MaxRows, MaxUncompressedBytes, MaxFieldChars, MaxFiles) must be at least 1.");
    }
}
