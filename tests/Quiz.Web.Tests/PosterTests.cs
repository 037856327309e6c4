using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Quiz.Server.Accounts;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>A unit's printable poster (issue 14, point 4): campaign, dates, organiser, and a QR code of a link that picks the unit.</summary>
[Collection(SiteCollection.Name)]
public sealed class PosterTests(QuizSite site)
{
    private const string Anhui = "340000", Wuhu = "340200", Jinghu = "340202"; // 安徽省 › 芜湖市 › 镜湖区

    private static string ChineseDay(string iso)
    {
        var day = DateOnly.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);
        return $"{day.Year}年{day.Month}月{day.Day}日";
    }

    [Fact]
    public async Task UnitStaffPrintAPosterWhoseLinkOpensThePhonePageWithTheirUnitChosen()
    {
        JsonElement campaign;
        using (var client = site.CreateClient()) campaign = await client.GetFromJsonAsync<JsonElement>($"/api/campaigns/{QuizSite.CampaignId}");
        var stages = campaign.GetProperty("stages").EnumerateArray().ToList();
        var start = stages.Select(s => s.GetProperty("startDay").GetString()!).Min(StringComparer.Ordinal)!;
        var end = stages.Select(s => s.GetProperty("endDay").GetString()!).Max(StringComparer.Ordinal)!;

        var staff = await site.CreateStaffAsync("poster-staff", Roles.UnitStaff, Anhui);
        await using var desk = await site.NewContextAsync(phone: false);
        var page = await desk.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.SetViewportSizeAsync(1366, 768);
        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await page.FillAsync("[data-test=login-name]", staff);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.ClickAsync("[data-test=login]");
        await page.Locator("[data-test=units-table]").WaitForAsync();

        // The unit's own poster, then a child unit's after drilling down.
        var href = (await page.Locator("[data-test=poster-link]").GetAttributeAsync("href"))!;
        Assert.Equal($"/dashboard/poster?c={QuizSite.CampaignId}&unit={Anhui}", href);
        await page.ClickAsync($"[data-test=open-{Wuhu}]");
        href = $"/dashboard/poster?c={QuizSite.CampaignId}&unit={Wuhu}";
        await Assertions.Expect(page.Locator("[data-test=poster-link]")).ToHaveAttributeAsync("href", href);

        await page.GotoAsync(href);
        await Assertions.Expect(page.Locator("[data-test=poster-unit]")).ToHaveTextAsync("芜湖市");
        await Assertions.Expect(page.Locator("[data-test=poster-campaign]")).ToHaveTextAsync(campaign.GetProperty("name").GetString()!);
        await Assertions.Expect(page.Locator("[data-test=poster-dates]")).ToHaveTextAsync($"活动时间：{ChineseDay(start)} 至 {ChineseDay(end)}");
        await Assertions.Expect(page.Locator("[data-test=poster-organiser]")).ToHaveTextAsync($"主办：{campaign.GetProperty("organiser").GetString()}");
        var qr = page.Locator("[data-test=poster-qr]");
        await Assertions.Expect(qr).ToBeVisibleAsync();
        Assert.StartsWith("data:image/png;base64,", await qr.GetAttributeAsync("src"));
        Assert.True(await qr.EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 100"), "the QR image is drawn");
        var link = (await page.Locator("[data-test=poster-href]").GetAttributeAsync("href"))!;
        Assert.Equal($"{site.Address.GetLeftPart(UriPartial.Authority)}/?c={QuizSite.CampaignId}&unit={Wuhu}", link);
        Assert.Equal(link, await page.Locator("[data-test=poster-href]").InnerTextAsync());
        Assert.Contains(link, await qr.GetAttributeAsync("alt"));
        await QuizSite.ScreensAsync(page, "poster-1-unit");

        // Printed, the sheet is the poster alone, at A4.
        await page.EmulateMediaAsync(new() { Media = Media.Print });
        await Assertions.Expect(page.Locator("[data-test=print]")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("[data-test=poster-qr]")).ToBeVisibleAsync();
        var pdf = await page.PdfAsync(new() { PreferCSSPageSize = true });
        var pages = System.Text.RegularExpressions.Regex.Matches(System.Text.Encoding.Latin1.GetString(pdf), @"/Type\s*/Page[^s]").Count;
        Assert.Equal(1, pages);

        // The link, opened on a phone, starts the sign-up in that unit; the player picks the county below it.
        await using var phone = await site.NewContextAsync(phone: true);
        var player = await Phone.OpenLinkAtAsync(phone, link!, DateTimeOffset.UtcNow);
        await Assertions.Expect(player.Locator("[data-test=region-0]")).ToHaveValueAsync("340000");
        await Assertions.Expect(player.Locator("[data-test=region-1]")).ToHaveValueAsync(Wuhu);
        await QuizSite.ScreensAsync(player, "poster-2-phone-unit-chosen");
        var mobile = QuizSite.NextMobile();
        await player.FillAsync("[data-test=nickname]", "扫码");
        await player.FillAsync("[data-test=mobile]", mobile);
        await player.Locator("[data-test=region-2]").SelectOptionAsync(Jinghu);
        await player.ClickAsync("[data-test=register]");
        await Phone.EnterCodeAsync(site, player, mobile);
        await Assertions.Expect(player.Locator("[data-test=my-unit]")).ToContainTextAsync("芜湖市");
        await Assertions.Expect(player.Locator("[data-test=my-unit]")).ToContainTextAsync("镜湖区");
    }

    [Fact]
    public async Task AnOrganisationsLinkChoosesTheOrganisationAndItsRegion()
    {
        await using var phone = await site.NewContextAsync(phone: true);
        var player = await Phone.OpenLinkAtAsync(phone, $"{site.Address.GetLeftPart(UriPartial.Authority)}/?c={QuizSite.CampaignId}&unit=ORG-002", DateTimeOffset.UtcNow);
        await Assertions.Expect(player.Locator("[data-test=organisation-chosen]")).ToContainTextAsync("江淮示范商业银行芜湖分行");
        await Assertions.Expect(player.Locator("[data-test=region-2]")).ToHaveValueAsync(Jinghu);
        await QuizSite.ScreensAsync(player, "poster-3-phone-organisation-chosen");

        // Its poster names the organisation.
        await using var desk = await site.NewContextAsync(phone: false);
        var page = await desk.NewPageAsync();
        await page.SetViewportSizeAsync(1366, 768);
        await page.GotoAsync($"/dashboard/poster?c={QuizSite.CampaignId}&unit=ORG-002");
        await Assertions.Expect(page.Locator("[data-test=poster-unit]")).ToHaveTextAsync("江淮示范商业银行芜湖分行");
        await QuizSite.ScreensAsync(page, "poster-4-organisation");
    }
}
