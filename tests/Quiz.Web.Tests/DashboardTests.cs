using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Quiz.Server.Accounts;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

[Collection(SiteCollection.Name)]
public sealed class DashboardTests(QuizSite site)
{
    private const string Wuhu = "340200", Jinghu = "340202"; // 芜湖市 › 镜湖区: no other test plays there

    [Fact]
    public async Task UnitStaffSeeTheirChildUnitsUpdateByPushWhenPlayersFinish()
    {
        var staff = await site.CreateStaffAsync("wuhu-staff", Roles.UnitStaff, Wuhu);
        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await LoginAsync(page, staff);

        var row = page.Locator($"[data-test=units-table] tr[data-code='{Jinghu}']");
        var participants = row.Locator("td[data-col=participants]");
        await Assertions.Expect(participants).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("[data-test=live]")).ToHaveClassAsync(new Regex(@"\bon\b"));
        await Assertions.Expect(page.Locator("[data-test=units-table] tbody tr")).Not.ToHaveCountAsync(0);
        Assert.DoesNotContain("合肥", await page.Locator("[data-test=units-table]").InnerTextAsync()); // only its own subtree

        // Three people in 镜湖区 finish a round elsewhere; the open page changes without a reload.
        for (var i = 0; i < 3; i++) await site.PlayRoundAsync(Jinghu);
        await Assertions.Expect(participants).ToHaveTextAsync("3", new() { Timeout = 5_000 });
        await Assertions.Expect(page.Locator("[data-test=total-participants]")).ToHaveTextAsync("3");
        await page.ClickAsync("[data-test=mode-today]");
        await Assertions.Expect(row.Locator("td[data-col=todayParticipants]")).ToHaveTextAsync("3");
        await QuizSite.ScreenshotAsync(page, "dashboard-1-live");

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=export-csv]"));
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.Contains("镜湖区", csv);

        await page.ClickAsync("[data-test=make-report]");
        await Assertions.Expect(page.Locator("[data-test=report]")).ToContainTextAsync("镜湖区");
        await page.EmulateMediaAsync(new() { Media = Media.Print });
        await Assertions.Expect(page.Locator("[data-test=units-table]")).ToBeHiddenAsync(); // the printout is the report alone
        await QuizSite.ScreenshotAsync(page, "dashboard-2-report-print");
    }

    [Fact]
    public async Task AdminsDrillDownFromTheProvincesToTheCounties()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await LoginAsync(page, QuizSite.AdminName);
        await page.ClickAsync("[data-test=open-340000]");
        await page.ClickAsync($"[data-test=open-{Wuhu}]");
        await Assertions.Expect(page.Locator("[data-test=crumbs]")).ToContainTextAsync("芜湖市");
        await Assertions.Expect(page.Locator($"[data-test=units-table] tr[data-code='{Jinghu}']")).ToBeVisibleAsync();
        await QuizSite.ScreenshotAsync(page, "dashboard-3-drill-down");
    }

    private static async Task LoginAsync(IPage page, string name)
    {
        await page.FillAsync("[data-test=login-name]", name);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.ClickAsync("[data-test=login]");
        await page.Locator("[data-test=units-table]").WaitForAsync();
    }
}
