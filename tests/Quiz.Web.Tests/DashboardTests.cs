using Microsoft.Extensions.DependencyInjection;
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
        await QuizSite.ScreensAsync(page, "dashboard-0-sign-in");
        await LoginAsync(page, staff);

        var row = page.Locator($"[data-test=units-table] tr[data-code='{Jinghu}']");
        var participants = row.Locator("td[data-col=participants]");
        await Assertions.Expect(participants).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("[data-test=live]")).ToHaveClassAsync(new Regex(@"\bon\b"));
        await Assertions.Expect(page.Locator("[data-test=units-table] tbody tr")).Not.ToHaveCountAsync(0);
        Assert.DoesNotContain("合肥", await page.Locator("[data-test=units-table]").InnerTextAsync()); // only its own subtree
        await Assertions.Expect(page.Locator($"[data-test=open-{Jinghu}]")).ToHaveCountAsync(0); // a county has nothing below to open
        await QuizSite.ScreensAsync(page, "dashboard-1a-unit-cumulative");

        // Three people in 镜湖区 finish a round elsewhere; the open page changes without a reload.
        for (var i = 0; i < 3; i++) await site.PlayRoundAsync(Jinghu);
        await Assertions.Expect(participants).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("[data-test=total-participants]")).ToHaveTextAsync("3");
        await page.ClickAsync("[data-test=mode-today]");
        await Assertions.Expect(row.Locator("td[data-col=todayParticipants]")).ToHaveTextAsync("3");
        await QuizSite.ScreensAsync(page, "dashboard-1-live");

        // Rates per 10,000 people with two decimals, as on screen: never a double's 2E-06.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=export-csv]"));
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.Contains("镜湖区", csv);
        Assert.DoesNotMatch(new Regex(@"\d[eE][+-]?\d"), csv);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("参与率（每万人）", lines[0]);
        Assert.All(lines.Skip(1), line => Assert.Matches(@"^[^,]+,[^,]+,\d+,\d+,\d+\.\d{2},", line));
        Assert.Contains(lines, line => line.StartsWith($"{Jinghu},镜湖区,3,475000,0.06,")); // 3 of 475,000 adults

        await page.ClickAsync("[data-test=make-report]");
        await Assertions.Expect(page.Locator("[data-test=report]")).ToContainTextAsync("镜湖区");
        await QuizSite.ScreensAsync(page, "dashboard-2-report");
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
        await page.ClickAsync("[data-test=units-table] [data-test=open-340000]");
        await page.ClickAsync($"[data-test=open-{Wuhu}]");
        await Assertions.Expect(page.Locator("[data-test=crumbs]")).ToContainTextAsync("芜湖市");
        await Assertions.Expect(page.Locator($"[data-test=units-table] tr[data-code='{Jinghu}']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=units-table] button.link")).ToHaveCountAsync(0); // counties: no links to nothing
        await QuizSite.ScreensAsync(page, "dashboard-3-drill-down");

        // Organisations drill down too: the types, then a type's organisations (which have nothing below).
        await page.ClickAsync("[data-test=by-organisation]");
        await Assertions.Expect(page.Locator("[data-test=crumbs]")).ToContainTextAsync("机构");
        await page.ClickAsync("[data-test='open-type:bank']");
        await Assertions.Expect(page.Locator("[data-test=crumbs]")).ToContainTextAsync("银行");
        await Assertions.Expect(page.Locator("[data-test=units-table] tbody tr")).Not.ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=units-table] button.link")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=total-participants]")).ToBeVisibleAsync();
        await QuizSite.ScreensAsync(page, "dashboard-3b-organisations");
        await page.ClickAsync("[data-test=by-region]");
        await Assertions.Expect(page.Locator("[data-test=province-grid]")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task OnAPhoneTheCountryFitsTheScreenWithItsTotalsAndAProvinceTileGrid()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await LoginAsync(page, QuizSite.AdminName);

        // The country's totals, readable rates, and the 31 provinces as tiles coloured by rate.
        var rate = new Regex(@"^(<0\.01|\d[\d,]*\.\d{2})$");
        await Assertions.Expect(page.Locator("[data-test=totals]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=total-participants]")).ToHaveTextAsync(new Regex(@"^\d[\d,]*$"));
        await Assertions.Expect(page.Locator("[data-test=total-rounds]")).ToHaveTextAsync(new Regex(@"^\d[\d,]*$"));
        await Assertions.Expect(page.Locator("[data-test=total-rate]")).ToHaveTextAsync(rate);
        await Assertions.Expect(page.Locator("[data-test=today-new]")).ToHaveTextAsync(new Regex(@"^今日新增 \+\d"));
        var tiles = page.Locator("[data-test=province-tile]");
        await Assertions.Expect(tiles).ToHaveCountAsync(31);
        foreach (var text in await tiles.Locator(".rate").AllInnerTextsAsync()) Assert.Matches(rate, text);
        await Assertions.Expect(page.Locator("[data-test=province-tile][data-code='340000']")).ToContainTextAsync("安徽");
        Assert.All(await tiles.EvaluateAllAsync<string[]>("tiles => tiles.map(t => t.className)"), c => Assert.Matches(@"\bs[0-5]\b", c)); // a colour step each

        // The trend chart, drawn (its library loaded once a chart is shown), its axes named.
        await Assertions.Expect(page.Locator("[data-test=trend-chart] canvas")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=trend-chart]")).ToHaveAttributeAsync("role", "img");

        await AssertFitsAPhoneAsync(page);
        await page.SetViewportSizeAsync(360, 560); // WeChat's share of the screen
        await AssertFitsAPhoneAsync(page);
        await page.SetViewportSizeAsync(360, 640);
        await QuizSite.ScreensAsync(page, "dashboard-4-national");

        // A province opens from its tile; the table is cards of labelled figures, still no sideways scroll.
        await page.ClickAsync("[data-test=province-tile][data-code='340000']");
        await Assertions.Expect(page.Locator("[data-test=crumbs]")).ToContainTextAsync("安徽省");
        await Assertions.Expect(page.Locator("[data-test=units-table] tr[data-code='340100']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=province-grid]")).ToHaveCountAsync(0);
        await page.ClickAsync("[data-test=mode-today]");
        await Assertions.Expect(page.Locator("[data-test=units-table] tr[data-code='340100'] td[data-col=todayParticipants]")).ToBeVisibleAsync();
        await AssertFitsAPhoneAsync(page);
        await QuizSite.ScreensAsync(page, "dashboard-5-province");

        // The crumbs lead back to the country, its tiles again.
        await page.ClickAsync("[data-test=crumbs] button >> nth=0");
        await Assertions.Expect(tiles).ToHaveCountAsync(31);
    }

    [Fact]
    public async Task CityStaffDownloadTheirCircularAndItsAnnexForTheDaysTheyPick()
    {
        const string Hefei = "340100";
        var staff = await site.CreateStaffAsync("hefei-circular", Roles.UnitStaff, Hefei);
        await site.PlayRoundAsync("340104"); // 蜀山区: the circular has someone to count
        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await LoginAsync(page, staff);

        var card = page.Locator("[data-test=circular]");
        await Assertions.Expect(card).ToContainTextAsync("合肥市");
        var first = await page.Locator("[data-test=circular-from]").GetAttributeAsync("min");
        Assert.Equal(first, await page.Locator("[data-test=circular-from]").InputValueAsync()); // the campaign so far by default
        await QuizSite.ScreensAsync(page, "dashboard-6-circular");

        var docx = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=circular-docx]"));
        Assert.EndsWith(".docx", docx.SuggestedFilename);
        using (var document = DocumentFormat.OpenXml.Packaging.WordprocessingDocument.Open((await docx.PathAsync())!, false))
        {
            var body = document.MainDocumentPart!.Document!.Body!;
            Assert.StartsWith("关于", body.Elements<DocumentFormat.OpenXml.Wordprocessing.Paragraph>().First().InnerText);
            var ranking = body.Elements<DocumentFormat.OpenXml.Wordprocessing.Table>().ElementAt(1).InnerText;
            Assert.Contains("蜀山区", ranking);
            Assert.DoesNotContain("芜湖", ranking);
        }
        var xlsx = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=circular-xlsx]"));
        Assert.EndsWith("-annex.xlsx", xlsx.SuggestedFilename);
        Assert.Equal("PK"u8.ToArray(), (await File.ReadAllBytesAsync((await xlsx.PathAsync())!))[..2]);

        // Days the wrong way round: said on the page, in the page's language, before any request.
        var last = DateOnly.Parse((await page.Locator("[data-test=circular-to]").GetAttributeAsync("max"))!, System.Globalization.CultureInfo.InvariantCulture);
        await page.FillAsync("[data-test=circular-from]", last.AddDays(1).ToString("yyyy-MM-dd"));
        await page.FillAsync("[data-test=circular-to]", last.ToString("yyyy-MM-dd"));
        await page.ClickAsync("[data-test=circular-docx]");
        await Assertions.Expect(page.Locator("[data-test=circular-error]")).ToHaveTextAsync("请选择起止日期，起始日期不能晚于截止日期");
        await QuizSite.ScreensAsync(page, "dashboard-6b-circular-error");
    }

    [Fact]
    public async Task LiveCompetitionJoinsShowApartFromQuizRounds()
    {
        const string Anqing = "340800", Yingjiang = "340802", Daguan = "340803"; // no other test plays or joins there
        var staff = await site.CreateStaffAsync("anqing-live", Roles.UnitStaff, Anqing);
        var rooms = site.Services.GetRequiredService<Quiz.Server.Live.LiveRooms>();
        var admin = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, QuizSite.AdminName),
             new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, Roles.Admin)], "test"));
        var (session, errors, _) = await rooms.CreateAsync(new Quiz.Server.Live.CreateLiveSession("安庆市现场竞赛", Anqing,
            new Quiz.Server.Live.LiveQuestionSource(Track: "general", Count: 1), [new Quiz.Server.Live.LiveRoundRule(Quiz.Server.Live.LiveRoundKind.MustAnswer, 1)], null, null),
            admin, "", default);
        Assert.True(session is not null, string.Join("; ", errors.SelectMany(e => e.Value)));
        // Joined through the room as the hub's Join does (the hub itself is tested by the server and live-page tests).
        foreach (var (nickname, region) in new[] { ("甲", Yingjiang), ("乙", Yingjiang), ("丙", Daguan) })
            Assert.Null((await rooms.JoinAsync(new Quiz.Server.Live.LiveJoinRequest(session.Code, nickname, region, null), null, default)).Error);

        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await LoginAsync(page, staff);

        var card = page.Locator("[data-test=live-joins]");
        await Assertions.Expect(card.Locator("[data-test=live-joins-total]")).ToContainTextAsync("安庆市");
        await Assertions.Expect(card.Locator($"[data-test=live-joins-{Yingjiang}] td").Nth(1)).ToHaveTextAsync("2");
        await Assertions.Expect(card.Locator($"[data-test=live-joins-{Daguan}] td").Nth(1)).ToHaveTextAsync("1");
        // Apart from rounds: nobody in 迎江区 has played one.
        await Assertions.Expect(page.Locator($"[data-test=units-table] tr[data-code='{Yingjiang}'] td[data-col=participants]")).ToHaveTextAsync("0");
        await card.ScrollIntoViewIfNeededAsync();
        await QuizSite.ScreensAsync(page, "dashboard-7-live-joins");
    }

    /// <summary>No sideways page scroll at 360 px, and a header of one short line.</summary>
    private static async Task AssertFitsAPhoneAsync(IPage page)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, innerWidth]");
        Assert.True(widths[0] <= widths[1], $"the page scrolls sideways: {widths[0]} > {widths[1]}");
        var header = await page.Locator("header.bar").BoundingBoxAsync();
        Assert.True(header!.Height <= 56, $"the header is {header.Height} px high");
    }

    [Fact]
    public async Task CityStaffSeeTheirIssuedDailyDispatchAndDownloadItAsIssued()
    {
        const string Hefei = "340100";
        var staff = await site.CreateStaffAsync("hefei-issued", Roles.UnitStaff, Hefei);
        await site.PlayRoundAsync("340104");
        // This evening's dispatch, issued as the schedule issues it (the site runs no schedule of its own).
        var campaign = site.Services.GetRequiredService<Quiz.Server.Campaigns.CampaignCatalog>().Get(QuizSite.CampaignId)!;
        var today = campaign.DayOf(site.Clock.GetUtcNow());
        var scheduler = site.Services.GetRequiredService<Quiz.Server.Circulars.CircularScheduler>();
        await scheduler.IssueAsync(campaign, new(Quiz.Server.Circulars.CircularKind.Daily, today, today, site.Clock.GetUtcNow()));

        await using var context = await site.NewContextAsync(phone: true);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await LoginAsync(page, staff);

        var list = page.Locator("[data-test=circulars] li");
        await Assertions.Expect(list).ToHaveCountAsync(1); // 合肥市's own: the province's and 芜湖市's are not for this office
        var day = today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await Assertions.Expect(list.First).ToContainTextAsync($"日调度 {day}");
        await list.First.ScrollIntoViewIfNeededAsync();
        await QuizSite.ScreensAsync(page, "dashboard-6c-circulars-issued");

        var docx = await page.RunAndWaitForDownloadAsync(() => list.First.Locator("[data-test=issued-docx]").ClickAsync());
        Assert.Equal($"{QuizSite.CampaignId}-{Hefei}-{today:yyyyMMdd}-{today:yyyyMMdd}-daily.docx", docx.SuggestedFilename);
        using (var document = DocumentFormat.OpenXml.Packaging.WordprocessingDocument.Open((await docx.PathAsync())!, false))
        {
            var paragraphs = document.MainDocumentPart!.Document!.Body!.Elements<DocumentFormat.OpenXml.Wordprocessing.Paragraph>().ToList();
            Assert.StartsWith("关于", paragraphs[0].InnerText);
            Assert.Equal($"（{today.Year}年{today.Month}月{today.Day}日）", paragraphs[1].InnerText);
            Assert.Contains("合肥市", string.Concat(paragraphs.Select(p => p.InnerText)));
        }
        var xlsx = await page.RunAndWaitForDownloadAsync(() => list.First.Locator("[data-test=issued-xlsx]").ClickAsync());
        Assert.EndsWith("-daily-annex.xlsx", xlsx.SuggestedFilename);
        Assert.Equal("PK"u8.ToArray(), (await File.ReadAllBytesAsync((await xlsx.PathAsync())!))[..2]);
    }

    private static async Task LoginAsync(IPage page, string name)
    {
        await page.FillAsync("[data-test=login-name]", name);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.ClickAsync("[data-test=login]");
        await page.Locator("[data-test=units-table]").WaitForAsync();
    }
}
