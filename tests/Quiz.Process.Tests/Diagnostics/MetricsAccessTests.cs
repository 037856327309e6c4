using System.Net;
using Quiz.Server.Admin;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Diagnostics;

/// <summary>Who may read /metrics: admins by default, anyone when told so, or anyone on a port of its own.</summary>
public sealed class MetricsAccessTests
{
    [Fact]
    public async Task MetricsAnswerAdminsOnlyByDefault()
    {
        using var app = new QuizApplication();
        using var anonymous = app.CreateClient();
        using var admin = app.CreateAdminClient();
        using var wrongKey = app.CreateClient();
        wrongKey.DefaultRequestHeaders.Add(AdminKey.Header, "guess");

        using var refused = await anonymous.GetAsync("/metrics");
        using var wrong = await wrongKey.GetAsync("/metrics");
        using var allowed = await admin.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Contains("# TYPE", await allowed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MetricsCanBePublic()
    {
        using var app = new QuizApplication().With("Diagnostics:MetricsPublic", "true");
        using var anonymous = app.CreateClient();

        using var response = await anonymous.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task MetricsCanHaveAPortOfTheirOwnThatServesNothingElse()
    {
        var folder = Path.Combine(Path.GetTempPath(), "quiz-tests", "metrics-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var metricsPort = ServerProcess.FreePort();
        try
        {
            await using var server = await ServerProcess.StartInAsync(folder, "--Seed:Enabled=false", "--Admin:ApiKey=k",
                $"--Diagnostics:MetricsUrls=http://127.0.0.1:{metricsPort}");
            using var main = new HttpClient { BaseAddress = server.Address };
            main.DefaultRequestHeaders.Add(AdminKey.Header, "k");
            using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
            // The Host header is the caller's: claiming the metrics port on the main one gets nothing.
            using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Host = $"127.0.0.1:{metricsPort}" } };

            using var scraped = await metrics.GetAsync("/metrics");
            using var onMain = await main.GetAsync("/metrics");
            using var spoofedAnswer = await main.SendAsync(spoofed);
            using var otherOnMetrics = await metrics.GetAsync("/healthz");

            Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
            Assert.Contains("# TYPE", await scraped.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.Forbidden, onMain.StatusCode); // even for an admin: /metrics lives on its port now
            Assert.Equal(HttpStatusCode.Forbidden, spoofedAnswer.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, otherOnMetrics.StatusCode);
            Assert.Equal("ok", await main.GetStringAsync("/healthz"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
