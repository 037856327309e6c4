namespace Quiz.Server.Storage;

/// <summary>Where the store lives. Bound from the "Storage" section.</summary>
public sealed record StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Folder holding the SQLite file; relative paths are taken from the working directory.</summary>
    public string DataDir { get; init; } = "./data";

    public string DatabasePath => Path.Combine(Path.GetFullPath(DataDir), "quiz.db");
}
