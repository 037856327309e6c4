using System.Text.Json;
using Microsoft.Playwright;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

[Collection(SiteCollection.Name)]
public sealed class PhonePageTests(QuizSite site)
{
    private static readonly string[] Yaohai = ["340000", "340100", "340102"]; // 安徽省 › 合肥市 › 瑶海区

    [Fact]
    public async Task PlaysAWholeRoundOnAPhoneAndResumesItAfterTheConnectionDrops()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await Phone.OpenAsync(context);

        var mobile = QuizSite.NextMobile();
        await Phone.FillRegistrationAsync(page, "老王", mobile, Yaohai);
        await QuizSite.ScreensAsync(page, "phone-1-register");
        await page.ClickAsync("[data-test=register]");
        await Assertions.Expect(page.Locator("[data-test=code]")).ToBeFocusedAsync();
        await QuizSite.ScreensAsync(page, "phone-1b-code");
        await Phone.EnterCodeAsync(site, page, mobile);
        await Assertions.Expect(page.Locator("[data-test=my-unit]")).ToContainTextAsync("瑶海区");
        await QuizSite.ScreensAsync(page, "phone-2-home");

        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");
        await Assertions.Expect(page.Locator("[data-test=countdown]")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"[12]:\d\d"));
        await Phone.AnswerAsync(page);
        await Assertions.Expect(page.Locator("[data-test=explanation]")).Not.ToBeEmptyAsync(); // the demo stage shows answers
        // The verdict names the right answer by its letter and its words (the options marked right), not by a letter alone.
        var right = page.Locator("[data-test^=option-].right");
        await Assertions.Expect(right).Not.ToHaveCountAsync(0);
        var key = page.Locator("[data-test=feedback-key]");
        await Assertions.Expect(key).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"正确答案：[A-H]\. \S"));
        foreach (var option in await right.Locator("span[lang]").AllInnerTextsAsync()) await Assertions.Expect(key).ToContainTextAsync(option);
        // The whole page from its top: a full-page shot of a scrolled page draws the sticky header halfway down.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await QuizSite.ScreensAsync(page, "phone-3-feedback");
        await page.ClickAsync("[data-test=language]");
        await Assertions.Expect(key).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"Answer: [A-H]\. \S"));
        await Assertions.Expect(key.Locator("span[lang=zh-CN]")).Not.ToHaveCountAsync(0); // the bank's words keep their language
        await QuizSite.ScreensAsync(page, "phone-3b-feedback-english");
        await page.ClickAsync("[data-test=language]");

        // The network drops: the hub's socket dies and nothing gets through until it is back.
        await context.SetOfflineAsync(true);
        await page.EvaluateAsync("() => window.__sockets.forEach(s => s.close())");
        await Assertions.Expect(page.Locator("[data-test=reconnecting]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=next]")).ToBeDisabledAsync();
        await QuizSite.ScreenshotAsync(page, "phone-4-reconnecting");
        await Axe.AssertAccessibleAsync(page, "phone: reconnecting");
        await context.SetOfflineAsync(false);
        await Assertions.Expect(page.Locator("[data-test=reconnecting]")).ToBeHiddenAsync(new() { Timeout = 20_000 });
        Assert.True(await page.EvaluateAsync<int>("() => window.__sockets.length") >= 2, "the page opened a new connection");

        // The same round carries on: the first answer is kept, the rest follow.
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");
        await Assertions.Expect(page.Locator("[data-test=feedback]")).ToBeVisibleAsync();
        for (var n = 2; n <= 5; n++)
        {
            await page.ClickAsync("[data-test=next]");
            await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync($"第 {n} / 5 题");
            await Phone.AnswerAsync(page);
        }
        await page.ClickAsync("[data-test=finish]");

        await Assertions.Expect(page.Locator("[data-test=result]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=national-rank]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^第 \d+ 名 / 共 \d+ 人$"));
        await Assertions.Expect(page.Locator("[data-test=unit-rank]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^第 \d+ 名 / 共 \d+ 人$"));
        await Assertions.Expect(page.Locator("[data-test=my-unit-rank]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^第 \d+ 名$"));
        var score = int.Parse(await page.Locator("[data-test=score]").InnerTextAsync());
        Assert.InRange(score, 0, 5);
        await QuizSite.ScreensAsync(page, "phone-5-result");

        await page.ClickAsync("[data-test=boards]");
        await Assertions.Expect(page.Locator("table tr.me")).ToBeVisibleAsync(); // I am on the national top 100
        await QuizSite.ScreensAsync(page, "phone-6-leaderboard");
        await page.ClickAsync("[data-test=tab-units]");
        await Assertions.Expect(page.Locator("table tr.me")).ToContainTextAsync("安徽省");
    }

    [Fact]
    public async Task ATapOnStartWhileTheConnectionIsStillOpeningStartsTheRound()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await Phone.OpenAsync(context);
        // A slow network: the hub's connection stays half open until the test lets it through.
        var negotiating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letThrough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(new System.Text.RegularExpressions.Regex(@"/hubs/play/negotiate"), async route =>
        {
            negotiating.TrySetResult();
            await letThrough.Task;
            await route.ContinueAsync();
        });
        try
        {
            await Phone.RegisterAsync(site, page, "老周", Yaohai);
            await negotiating.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the page has begun to connect

            // The tap is taken (once it was lost on a button greyed out while connecting), and the
            // button says it is on its way until the round is there.
            var start = page.Locator("[data-test=start]");
            await Assertions.Expect(start).ToBeEnabledAsync();
            await start.ClickAsync();
            await Assertions.Expect(start).ToBeDisabledAsync();
            await Assertions.Expect(start).ToHaveTextAsync("正在开始……");
            letThrough.SetResult();
            await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");
        }
        finally
        {
            letThrough.TrySetResult(); // a failed check must not leave the route holding the page
            await page.UnrouteAllAsync();
        }
    }

    [Fact]
    public async Task ANewPhoneGetsBackAKnownNumberOnlyWithTheCodeSentToIt()
    {
        var mobile = QuizSite.NextMobile();
        await using (var first = await site.NewContextAsync(phone: true))
        {
            var page = await Phone.OpenAsync(first);
            await Phone.FillRegistrationAsync(page, "陈奶奶", mobile, Yaohai);
            await page.ClickAsync("[data-test=register]");
            await Phone.EnterCodeAsync(site, page, mobile);
            await page.Locator("[data-test=start]").WaitForAsync();
        }

        // Another phone, the same number, another name and county: it is told nothing until the code.
        await using var second = await site.NewContextAsync(phone: true);
        var other = await Phone.OpenAsync(second);
        await Phone.FillRegistrationAsync(other, "冒充者", mobile, ["340000", "340100", "340103"]);
        await other.ClickAsync("[data-test=register]");
        // Within the resend interval of the number the form says so and counts down; then it sends.
        await Assertions.Expect(other.Locator("[data-test=code-step], [data-test=register-error]").First).ToBeVisibleAsync();
        if (await other.Locator("[data-test=register-error]").IsVisibleAsync())
        {
            await Assertions.Expect(other.Locator("[data-test=register-error]")).ToContainTextAsync("发送太频繁");
            await other.ClickAsync("[data-test=register]", new() { Timeout = 20_000 });
        }
        var resend = other.Locator("[data-test=resend]");
        await Assertions.Expect(resend).ToBeDisabledAsync();
        await Assertions.Expect(resend).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"重新发送（\d+秒）"));
        await Assertions.Expect(other.Locator("main")).Not.ToContainTextAsync("陈奶奶");
        var sent = site.Codes.All.Where(s => s.MobileMasked == $"{mobile[..3]}****{mobile[^4..]}").ToList();
        Assert.Equal(2, sent.Count); // a code of its own went to the number
        var code = sent[^1].Code;
        await other.FillAsync("[data-test=code]", code == "000000" ? "000001" : "000000");
        await other.ClickAsync("[data-test=verify]");
        await Assertions.Expect(other.Locator("[data-test=code-error]")).ToHaveTextAsync("验证码不正确，还可以再试 4 次");
        var height = await other.Locator("[data-test=verify]").EvaluateAsync<double>("e => e.getBoundingClientRect().height");
        Assert.True(height >= 56, $"the confirm button is a large touch target ({height}px)");
        await QuizSite.ScreensAsync(other, "phone-1c-wrong-code");

        await other.FillAsync("[data-test=code]", code);
        await other.ClickAsync("[data-test=verify]");
        await Assertions.Expect(other.Locator("[data-test=my-unit]")).ToContainTextAsync("瑶海区"); // the units first registered
        await Assertions.Expect(other.Locator("main")).ToContainTextAsync("陈奶奶");
    }

    [Fact]
    public async Task ElderlyModeEnlargesTheTextRaisesContrastAndReadsTheQuestionAloud()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await Phone.OpenAsync(context);
        await Phone.RegisterAsync(site, page, "张阿姨", Yaohai);
        await page.ClickAsync("[data-test=start]");
        var stem = page.Locator("[data-test=stem]");
        await Assertions.Expect(stem).Not.ToBeEmptyAsync();
        var before = await FontSizeAsync(stem);
        await Assertions.Expect(page.Locator("[data-test=read-aloud]")).ToHaveCountAsync(0);

        await page.ClickAsync("[data-test=elderly]");
        var after = await FontSizeAsync(stem);
        Assert.True(after >= before * 1.25, $"the stem grows from {before}px, not only to {after}px");
        Assert.Equal("rgb(0, 0, 0)", await stem.EvaluateAsync<string>("e => getComputedStyle(e).color"));
        var optionHeight = await page.Locator("[data-test=option-0]").EvaluateAsync<double>("e => e.getBoundingClientRect().height");
        Assert.True(optionHeight >= 56, $"an option is a large touch target ({optionHeight}px)");

        await page.ClickAsync("[data-test=read-aloud]");
        var spoken = await page.EvaluateAsync<JsonElement>("() => window.__spoken");
        Assert.Equal(1, spoken.GetArrayLength());
        Assert.Contains(await stem.InnerTextAsync(), spoken[0].GetProperty("text").GetString());
        Assert.Equal("zh-CN", spoken[0].GetProperty("lang").GetString());
        await QuizSite.ScreensAsync(page, "phone-7-elderly");

        // The switch is remembered on this phone.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("html")).ToHaveClassAsync("elderly");
    }

    [Fact]
    public async Task SwitchesToEnglishAndShowsTheRulesAndAPosterQrCode()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await Phone.OpenAsync(context);
        await Phone.RegisterAsync(site, page, "小李", Yaohai);
        await page.ClickAsync("[data-test=language]");
        await Assertions.Expect(page.Locator("[data-test=start]")).ToHaveTextAsync("Start a round");
        await page.ClickAsync("[data-test=rules]");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("5 questions a round");
        await QuizSite.ScreensAsync(page, "phone-8-rules-english");
        await page.ClickAsync("[data-test=language]");
        await page.GotoAsync($"/?c={QuizSite.CampaignId}");
        await page.ClickAsync("[data-test=share]");
        var qr = page.Locator("[data-test=qr]");
        await Assertions.Expect(qr).ToHaveAttributeAsync("alt", $"{site.Address.ToString().TrimEnd('/')}/?c={QuizSite.CampaignId}");
        Assert.StartsWith("data:image/png", await qr.GetAttributeAsync("src"));
        await QuizSite.ScreensAsync(page, "phone-9-qr");
    }

    [Fact]
    public async Task TheFirstLoadIsUnder200KilobytesGzipped()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await context.NewPageAsync();
        var responses = new List<IResponse>();
        page.Response += (_, response) => responses.Add(response);
        await page.GotoAsync($"/?c={QuizSite.CampaignId}", new() { WaitUntil = WaitUntilState.NetworkIdle });
        await Assertions.Expect(page.Locator("[data-test=register]")).ToBeVisibleAsync();

        long gzipped = 0;
        foreach (var response in responses.Where(r => !r.Url.Contains("/api/")))
        {
            using var buffer = new MemoryStream();
            await using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
                await gzip.WriteAsync(await response.BodyAsync());
            gzipped += buffer.Length;
        }
        Assert.True(gzipped <= 200 * 1024, $"the phone page's first load is {gzipped / 1024} KB gzipped");
        Assert.DoesNotContain(responses, r => r.Url.Contains("SharePoster") || r.Url.Contains("Leaderboards")); // loaded when opened
    }

    private static Task<double> FontSizeAsync(ILocator locator) =>
        locator.EvaluateAsync<double>("e => parseFloat(getComputedStyle(e).fontSize)");
}
