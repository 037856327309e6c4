using Microsoft.Extensions.Options;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Hosting;

/// <summary>A bad setting stops the start, naming its key, rather than failing the first request that reads it.</summary>
public sealed class SettingsTests
{
    [Theory]
    [InlineData("Import:MaxRows", "0", "Import")]
    [InlineData("RateLimits:RegistrationsPerMinutePerAddress", "0", "RateLimits")]
    [InlineData("Participants:TokenDays", "0", "Participants:TokenDays")]
    [InlineData("Verification:CodeSeconds", "5", "Verification:CodeSeconds")]
    [InlineData("Ranking:FinishTimeout", "00:00:00", "Ranking:FinishTimeout")]
    [InlineData("Diagnostics:MetricsUrls", "not a url", "Diagnostics:MetricsUrls")]
    [InlineData("Circulars:CheckInterval", "00:00:00", "Circulars:CheckInterval")]
    [InlineData("Circulars:CatchUp", "00:00:10", "Circulars:CatchUp")]
    public void ABadValueStopsTheStartAndNamesItsKey(string key, string value, string named)
    {
        using var app = new QuizApplication().With(key, value);
        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());
        var validation = Assert.IsType<OptionsValidationException>(Unwrap(error));
        Assert.Contains(named, string.Join(" ", validation.Failures));
    }

    [Fact]
    public async Task TheDefaultsStart()
    {
        using var app = new QuizApplication();
        using var client = app.CreateClient();
        Assert.True((await client.GetAsync("/healthz")).IsSuccessStatusCode);
    }

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrap(a.InnerExceptions[0]) : e;
}
