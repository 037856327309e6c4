namespace Quiz.Server.Storage;

/// <summary>
/// The data folder holds the store, the admin key and the participant secret: only the server's
/// own user may read them. A folder the server creates is 0700 and a secret it writes is 0600
/// from the moment it exists; a secret found readable by others (an older server wrote them
/// 0644) is tightened at start.
/// </summary>
public static class DataFolder
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void Create(string folder)
    {
        if (Directory.Exists(folder)) return;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
        else Directory.CreateDirectory(folder, OwnerOnly | UnixFileMode.UserExecute);
    }

    /// <summary>The secret in this file, written first from <paramref name="generate"/> when there is none.</summary>
    public static string ReadOrCreateSecret(string file, Func<string> generate, ILogger logger)
    {
        Create(Path.GetDirectoryName(file)!);
        try
        {
            // CreateNew: two servers starting on one folder never overwrite each other's secret.
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
            using var writer = new StreamWriter(file, System.Text.Encoding.ASCII, options);
            writer.Write(generate());
        }
        catch (IOException) when (File.Exists(file))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(file) & ~OwnerOnly) != 0)
            {
                File.SetUnixFileMode(file, OwnerOnly);
                logger.LogWarning("{File} was readable by other users; it is now readable by its owner only (0600)", file);
            }
        }
        var secret = File.ReadAllText(file).Trim();
        // An empty key would match an empty header: refuse to start rather than open the door.
        return secret.Length > 0 ? secret : throw new InvalidOperationException($"{file} is empty: delete it (a new one is generated) or put a secret in it");
    }
}
