using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Diagnostics;

/// <summary>
/// Metrics are exported by meter name, and every server in this test process names its meter
/// "Quiz.Server": these tests run alone so no other server's rounds are counted.
/// </summary>
[CollectionDefinition(nameof(DiagnosticsTests), DisableParallelization = true)]
public sealed class DiagnosticsCollection;

[Collection(nameof(DiagnosticsTests))]
public sealed class DiagnosticsTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new(kestrel: true);

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    private static double Value(string metrics, string name) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Sum();

    [Fact]
    public async Task MetricsCountRoundsAnswersFinishesCommitsAndConnections()
    {
        await using var player = await PlayWorld.ConnectPlayerAsync(_app);
        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        using var client = _app.CreateAdminClient();

        // exported on collection
        var metrics = await Eventually.ReadAsync(() => client.GetStringAsync("/metrics"), m => Value(m, "quiz_finishes_total") >= 2, TimeSpan.FromSeconds(5));

        Assert.Equal(2, Value(metrics, "quiz_finishes_total"));
        Assert.Equal(2, Value(metrics, "quiz_rounds_started_total"));
        Assert.Equal(10, Value(metrics, "quiz_answers_total"));
        Assert.Equal(1, Value(metrics, "quiz_connections"));
        Assert.True(Value(metrics, "quiz_store_batch_size_count") >= 2); // starts and finishes are committed in batches
        Assert.Equal(2, Value(metrics, "quiz_finish_duration_milliseconds_count"));
        Assert.Equal(2, Value(metrics, "quiz_ranking_update_duration_milliseconds_count"));
    }

    [Fact]
    public async Task TheEchoHubAnswersWhatItIsSent()
    {
        await using var echo = new HubConnectionBuilder().WithUrl(new Uri(_app.ServerAddress, "/hubs/echo")).Build();
        await echo.StartAsync();
        Assert.Equal("你好", await echo.InvokeAsync<string>("Echo", "你好"));
    }
}
