using Microsoft.Playwright;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>The browser's back and forward on the phone page (issue 14, point 4): they step through the quiz, never off the site.</summary>
[Collection(SiteCollection.Name)]
public sealed class PhoneHistoryTests(QuizSite site)
{
    private static readonly string[] Yaohai = ["340000", "340100", "340102"]; // 安徽省 › 合肥市 › 瑶海区

    private string PathOf(IPage page)
    {
        var url = new Uri(page.Url);
        Assert.Equal(site.Address.Authority, url.Authority); // still on the quiz's site
        return url.AbsolutePath;
    }

    [Fact]
    public async Task BackAndForwardStepThroughTheQuizScreensAndKeepTheRound()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await Phone.OpenAsync(context);
        await Phone.RegisterAsync(site, page, "回退", Yaohai);
        Assert.Equal("/", PathOf(page));
        var home = await page.EvaluateAsync<int>("() => window.history.length");

        // Home → rules, back to home, forward to the rules again.
        await page.ClickAsync("[data-test=rules]");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "活动规则" })).ToBeVisibleAsync();
        Assert.Equal("/play/rules", PathOf(page));
        await QuizSite.ScreensAsync(page, "phone-history-0-rules");
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeVisibleAsync();
        Assert.Equal("/", PathOf(page));
        await page.GoForwardAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "活动规则" })).ToBeVisibleAsync();
        Assert.Equal("/play/rules", PathOf(page));
        // The page's own back button steps back too, rather than piling up entries.
        await page.GetByRole(AriaRole.Button, new() { Name = "返回", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeVisibleAsync();
        Assert.Equal("/", PathOf(page));
        await page.GoForwardAsync(); // the rules entry is still the next one: the button went back, it did not add home again
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "活动规则" })).ToBeVisibleAsync();
        Assert.Equal(home + 1, await page.EvaluateAsync<int>("() => window.history.length"));
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeVisibleAsync();

        // A question, then back: home, with the way back into the running round.
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");
        Assert.Equal("/play/round", PathOf(page));
        await Phone.AnswerAsync(page);
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("[data-test=back-to-round]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeVisibleAsync();
        Assert.Equal("/", PathOf(page));
        await QuizSite.ScreensAsync(page, "phone-history-1-back-from-question");

        // Forward: the same round, its answer kept.
        await page.GoForwardAsync();
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");
        await Assertions.Expect(page.Locator("[data-test=feedback]")).ToBeVisibleAsync();
        Assert.Equal("/play/round", PathOf(page));

        // A reload on the round's address brings the round back, at its first open question.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 2 / 5 题", new() { Timeout = 20_000 });
        Assert.Equal("/play/round", PathOf(page));
        await QuizSite.ScreensAsync(page, "phone-history-2-round-after-reload");

        // Through "back to the round" from home, then to the result.
        await page.GoBackAsync();
        await page.ClickAsync("[data-test=back-to-round]");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 2 / 5 题");
        Assert.Equal("/play/round", PathOf(page));
        await Phone.AnswerAsync(page);
        for (var n = 3; n <= 5; n++)
        {
            await page.ClickAsync("[data-test=next]");
            await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync($"第 {n} / 5 题");
            await Phone.AnswerAsync(page);
        }
        await page.ClickAsync("[data-test=finish]");
        await Assertions.Expect(page.Locator("[data-test=result]")).ToBeVisibleAsync();
        Assert.Equal("/play/result", PathOf(page));
        await QuizSite.ScreensAsync(page, "phone-history-2b-result");

        // Result → boards → back to the result → back to home (the finished round is not an entry any more) → forward.
        await page.ClickAsync("[data-test=boards]");
        await Assertions.Expect(page.Locator("[data-test=tab-top]")).ToBeVisibleAsync();
        Assert.Equal("/play/boards", PathOf(page));
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("[data-test=result]")).ToBeVisibleAsync();
        Assert.Equal("/play/result", PathOf(page));
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=back-to-round]")).ToBeHiddenAsync();
        Assert.Equal("/", PathOf(page));
        await QuizSite.ScreensAsync(page, "phone-history-3-back-from-result");
        await page.GoForwardAsync();
        await Assertions.Expect(page.Locator("[data-test=result]")).ToBeVisibleAsync();
        Assert.Equal("/play/result", PathOf(page));
    }

    [Fact]
    public async Task ADeepLinkOpensItsScreenOnReloadAndAScreenThatCannotBeShownGivesWayToHome()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await Phone.OpenAsync(context);
        await Phone.RegisterAsync(site, page, "深链", Yaohai);

        // The server answers the screen's own address with the page (not 404), and the page opens that screen.
        using (var client = site.CreateClient())
        using (var response = await client.GetAsync("/play/boards"))
        {
            response.EnsureSuccessStatusCode();
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        }
        var loaded = await page.GotoAsync($"/play/boards?c={QuizSite.CampaignId}");
        Assert.Equal(200, loaded!.Status);
        await Assertions.Expect(page.Locator("[data-test=tab-top]")).ToBeVisibleAsync();
        Assert.Equal("/play/boards", PathOf(page));
        await QuizSite.ScreensAsync(page, "phone-history-4-boards-deep-link");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-test=tab-top]")).ToBeVisibleAsync();
        Assert.Equal("/play/boards", PathOf(page));

        // A result is not kept over a reload: its address opens home instead of an empty screen.
        await page.GotoAsync($"/play/result?c={QuizSite.CampaignId}");
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeVisibleAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"/\?c=demo$"));
    }
}
