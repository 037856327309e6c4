using Microsoft.Playwright;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>
/// The pages under the server's Content-Security-Policy: they are served with it, the browser
/// reports no violation while they do their work (hub over WebSockets, data: QR code, charts),
/// and the hub's WebSocket is open, not silently replaced by a fallback transport.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class ContentSecurityPolicyTests(QuizSite site)
{
    private const string RecordViolations = """
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
        """;

    private static async Task<IPage> OpenAsync(IBrowserContext context, string path)
    {
        await context.AddInitScriptAsync(RecordViolations);
        await context.AddInitScriptAsync(Phone.InitScript);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        var response = await page.GotoAsync(path);
        Assert.Contains("frame-ancestors 'none'", (await response!.AllHeadersAsync())["content-security-policy"]);
        return page;
    }

    private static async Task AssertNoViolationsAsync(IPage page) =>
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__csp"));

    [Fact]
    public async Task ThePhonePagePlaysOverAWebSocketAndDrawsItsQrCodeWithoutAViolation()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await OpenAsync(context, $"/?c={QuizSite.CampaignId}");
        await Phone.RegisterAsync(site, page, "守规矩", "340000", "340100", "340102");
        await page.ClickAsync("[data-test=share]");
        Assert.StartsWith("data:image/png", await page.Locator("[data-test=qr]").GetAttributeAsync("src"));
        await page.GotoAsync($"/?c={QuizSite.CampaignId}");
        await page.ClickAsync("[data-test=start]");
        await Phone.AnswerAsync(page);
        Assert.Equal(1, await page.EvaluateAsync<int>("window.__sockets.filter(s => s.readyState === WebSocket.OPEN).length"));

        await AssertNoViolationsAsync(page);
    }

    [Fact]
    public async Task TheDashboardAndTheAdminConsoleWorkWithoutAViolation()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var dashboard = await OpenAsync(context, $"/dashboard?c={QuizSite.CampaignId}");
        await dashboard.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await dashboard.FillAsync("[data-test=login-password]", QuizSite.Password);
        await dashboard.ClickAsync("[data-test=login]");
        await dashboard.Locator("[data-test=units-table]").WaitForAsync();
        await Assertions.Expect(dashboard.Locator("[data-test=live]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bon\b"));
        await AssertNoViolationsAsync(dashboard);

        var admin = await OpenAsync(context, "/admin"); // the same login cookie
        await admin.Locator("[data-test=import-files]").WaitForAsync();
        await AssertNoViolationsAsync(admin);

        // The recorder does see a violation: an image from another origin is refused (and never fetched).
        await admin.EvaluateAsync("() => { new Image().src = 'http://203.0.113.7/beacon.png'; }");
        await admin.WaitForFunctionAsync("window.__csp.some(v => v.startsWith('img-src'))");
    }
}
