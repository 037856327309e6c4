namespace Quiz.Server.Storage;

/// <summary>The store's engine.</summary>
public enum StorageProvider { Sqlite, Postgres }

/// <summary>Where the store lives. Bound from the "Storage" section.</summary>
public sealed record StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>Sqlite</c> (the embedded run: a file in <see cref="DataDir"/>) or <c>Postgres</c> (shared by every node).</summary>
    public StorageProvider Provider { get; init; } = StorageProvider.Sqlite;

    /// <summary>For <c>Postgres</c>: an Npgsql connection string, e.g. <c>Host=db;Database=quiz;Username=quiz;Password=...</c>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Folder holding the SQLite file (and the secrets); relative paths are taken from the working directory.</summary>
    public string DataDir { get; init; } = "./data";

    public string DatabasePath => Path.Combine(Path.GetFullPath(DataDir), "quiz.db");

    public void Validate()
    {
        if (!Enum.IsDefined(Provider)) throw new InvalidOperationException("Storage:Provider must be Sqlite or Postgres.");
        if (Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
            throw new InvalidOperationException("Storage:ConnectionString is required when Storage:Provider is Postgres.");
    }
}
