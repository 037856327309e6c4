using System.Net;
using System.Net.Http.Json;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Accounts;

/// <summary>The server's command line, run as the process an operator starts.</summary>
public sealed class AdminCommandTests
{
    [Fact]
    public async Task TheFirstAdminIsCreatedFromTheCommandLine()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "quiz-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var created = await CommandLine.RunAsync("admin", "create", "root", "--password", Staff.Password, $"--Storage:DataDir={dataDir}");
            var again = await CommandLine.RunAsync("admin", "create", "root", "--password", Staff.Password, $"--Storage:DataDir={dataDir}");
            var weak = await CommandLine.RunAsync("admin", "create", "other", "--password", "123", $"--Storage:DataDir={dataDir}");

            Assert.Equal((0, "created admin account 'root'"), (created.ExitCode, created.Lines[^1]));
            Assert.Equal(1, again.ExitCode);
            Assert.Equal(1, weak.ExitCode);
            using var app = new QuizApplication().With("Storage:DataDir", dataDir);
            using var client = app.CreateClient();
            using var login = await client.PostAsJsonAsync("/api/accounts/login", new { name = "root", password = Staff.Password });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            // On PostgreSQL, given its secrets and with the key ring in the store, the server writes nothing there.
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }
}
