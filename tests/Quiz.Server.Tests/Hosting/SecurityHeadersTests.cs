using System.Text.RegularExpressions;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Hosting;

/// <remarks>One server for the class: every test only reads.</remarks>
public sealed class SecurityHeadersTests(SharedServer server) : IClassFixture<SharedServer>
{
    private readonly QuizApplication _app = server.App;

    public static TheoryData<string> Paths() => ["/", "/dashboard", "/admin", "/api/units/regions", "/healthz", "/no/such/thing", "/api/admin/questions/"];

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task EveryResponseCarriesTheBrowserProtections(string path)
    {
        using var client = _app.CreateClient();
        using var response = await client.GetAsync(path);
        AssertProtected(response);
    }

    [Fact]
    public async Task StaticFilesCarryThemToo()
    {
        using var client = _app.CreateClient();
        var page = await client.GetStringAsync("/");
        var script = Regex.Match(page, @"src=""(/assets/[^""]+\.js)""").Groups[1].Value;
        var style = Regex.Match(page, @"href=""(/assets/[^""]+\.css)""").Groups[1].Value;

        foreach (var asset in new[] { script, style })
        {
            using var response = await client.GetAsync(asset);
            Assert.True(response.IsSuccessStatusCode, asset);
            AssertProtected(response);
        }
    }

    private static void AssertProtected(HttpResponseMessage response)
    {
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("script-src 'self';", csp);
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("img-src 'self' data:", csp);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
        Assert.Equal(["no-referrer"], response.Headers.GetValues("Referrer-Policy"));
    }
}
