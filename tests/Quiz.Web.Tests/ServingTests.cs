using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Quiz.Server.Participants;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>
/// How the pages travel (issue 14, point 9): the phone page's first load fits a slow mobile link
/// (≤ 80 KB on the wire, SignalR's client only after sign-up), the dashboard's login screen leaves
/// the chart library alone (point 7), hashed assets are cached for a year and compressed, HTML is
/// revalidated, and responses that carry a secret are never compressed.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed partial class ServingTests(QuizSite site)
{
    private const long FirstLoadBudget = 80 * 1024;
    private const string YearLong = "public, max-age=31536000, immutable";

    [GeneratedRegex(@"/assets/signalr-[^/]*\.js$")]
    private static partial Regex SignalRChunk();

    [GeneratedRegex(@"/assets/echarts-[^/]*\.js$")]
    private static partial Regex EChartsChunk();

    [GeneratedRegex(@"/assets/index-[^""/]+\.js")]
    private static partial Regex PhoneEntry();

    /// <summary>Every response a page received in full, with what it cost on the wire (headers and encoded body).</summary>
    private sealed class Traffic
    {
        private readonly List<IRequest> _finished = [];
        private readonly List<string> _failed = [];

        public Traffic(IPage page)
        {
            page.RequestFinished += (_, request) => { lock (_finished) _finished.Add(request); };
            page.RequestFailed += (_, request) => { lock (_failed) _failed.Add(request.Url); };
        }

        public IReadOnlyList<string> Urls { get { lock (_finished) return _finished.Select(r => r.Url).ToList(); } }
        public IReadOnlyList<string> Failed { get { lock (_failed) return _failed.ToList(); } }

        public async Task<(long Total, string Report)> TransferredAsync()
        {
            List<IRequest> requests;
            lock (_finished) requests = _finished.ToList();
            long total = 0;
            var lines = new List<string>();
            foreach (var request in requests)
            {
                var sizes = await request.SizesAsync();
                var bytes = (long)sizes.ResponseHeadersSize + sizes.ResponseBodySize;
                total += bytes;
                lines.Add($"{bytes,8} {new Uri(request.Url).PathAndQuery}");
            }
            return (total, string.Join("\n", lines));
        }
    }

    [Fact]
    public async Task ThePhonePagesFirstLoadTransfersAtMost80KbAndLoadsSignalROnlyAfterSignUp()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        var traffic = new Traffic(page);

        await page.GotoAsync("/", new() { WaitUntil = WaitUntilState.NetworkIdle });
        await page.Locator("[data-test=nickname]").WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        var (total, report) = await traffic.TransferredAsync();
        Console.WriteLine($"phone page first load: {total} bytes transferred\n{report}");
        Assert.Empty(traffic.Failed);
        Assert.True(total <= FirstLoadBudget, $"the first load transferred {total} bytes (budget {FirstLoadBudget}):\n{report}");
        Assert.DoesNotContain(traffic.Urls, url => SignalRChunk().IsMatch(url));
        Assert.DoesNotContain(traffic.Urls, url => EChartsChunk().IsMatch(url));
        await QuizSite.ScreenshotAsync(page, "serving-1-phone-first-load");
        await Axe.AssertAccessibleAsync(page, "phone page, first load");

        // Signing up is what brings the hub's client in (the wait fails if it never comes).
        await page.RunAndWaitForRequestFinishedAsync(
            () => Phone.RegisterAsync(site, page, "轻装上阵", "340000", "340100", "340102"),
            new() { Predicate = request => SignalRChunk().IsMatch(request.Url) });
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeEnabledAsync(); // the hub connected
        Assert.DoesNotContain(traffic.Urls, url => EChartsChunk().IsMatch(url));
        await Axe.AssertAccessibleAsync(page, "phone page, signed up");
    }

    [Fact]
    public async Task TheDashboardLoginScreenLoadsNoChartLibraryUntilAChartIsShown()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        var traffic = new Traffic(page);

        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}", new() { WaitUntil = WaitUntilState.NetworkIdle });
        await page.Locator("[data-test=login-name]").WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var (total, report) = await traffic.TransferredAsync();
        Console.WriteLine($"dashboard login screen: {total} bytes transferred\n{report}");
        Assert.DoesNotContain(traffic.Urls, url => EChartsChunk().IsMatch(url));
        await Axe.AssertAccessibleAsync(page, "dashboard, login screen");

        // Signed in, the trend chart brings the library (the wait fails if it never comes).
        await page.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.RunAndWaitForRequestFinishedAsync(() => page.ClickAsync("[data-test=login]"),
            new() { Predicate = request => EChartsChunk().IsMatch(request.Url) });
        await page.Locator("[data-test=trend-chart] canvas").WaitForAsync();
        // The signed-in dashboard's axe-core check is DashboardTests' (that page state is theirs).
    }

    private static async Task<string> ReadTextAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStreamAsync();
        Stream text = response.Content.Headers.ContentEncoding.LastOrDefault() switch
        {
            "br" => new System.IO.Compression.BrotliStream(body, System.IO.Compression.CompressionMode.Decompress),
            "gzip" => new System.IO.Compression.GZipStream(body, System.IO.Compression.CompressionMode.Decompress),
            _ => body,
        };
        using var reader = new StreamReader(text);
        return await reader.ReadToEndAsync();
    }
}
