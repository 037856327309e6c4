using System.Net;
using Quiz.Server.Admin;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Storage;

/// <summary>The data folder and the secrets the server generates in it are readable by the server's user only.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataFolderTests
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A server that generates its admin key and participant secret (the tests' application is given a key).</summary>
    private static QuizApplication Generating() => new QuizApplication().With("Admin:ApiKey", "");

    [Fact]
    public async Task AFreshDataFolderIs0700AndItsSecrets0600()
    {
        using var app = Generating();
        using var client = app.CreateClient();
        Assert.Equal("ok", await client.GetStringAsync("/healthz"));

        Assert.Equal(OwnerReadWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(app.DataDir));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(Path.Combine(app.DataDir, "admin.key")));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(Path.Combine(app.DataDir, "participant.secret")));
    }

    [Fact]
    public async Task SecretsReadableByOthersAreTightenedAtStartAndKeepTheirValue()
    {
        using var app = Generating();
        Directory.CreateDirectory(app.DataDir);
        var key = Path.Combine(app.DataDir, "admin.key");
        var secret = Path.Combine(app.DataDir, "participant.secret");
        File.WriteAllText(key, "an-older-key");
        File.WriteAllText(secret, "an-older-secret");
        var open = OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(key, open);
        File.SetUnixFileMode(secret, open);

        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Add(AdminKey.Header, "an-older-key");
        using var response = await client.GetAsync("/api/admin/questions/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(key));
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(secret));
    }
}
