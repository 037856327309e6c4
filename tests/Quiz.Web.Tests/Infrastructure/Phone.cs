using Microsoft.Playwright;

namespace Quiz.Web.Tests.Infrastructure;

/// <summary>What a player does on the phone page, in the page's own terms (data-test hooks).</summary>
public static class Phone
{
    /// <summary>
    /// Records every WebSocket the page opens, so a test can cut the hub's connection the way a
    /// flaky mobile network does; and stubs speech synthesis, recording what would be read aloud.
    /// </summary>
    public const string InitScript = """
        (() => {
          const Native = window.WebSocket;
          window.__sockets = [];
          window.WebSocket = class extends Native {
            constructor(...args) { super(...args); window.__sockets.push(this); }
          };
          window.__spoken = [];
          if (window.speechSynthesis) {
            window.speechSynthesis.speak = utterance => window.__spoken.push({ text: utterance.text, lang: utterance.lang });
            window.speechSynthesis.cancel = () => {};
          }
        })();
        """;

    public static async Task<IPage> OpenAsync(IBrowserContext context, string campaignId = QuizSite.CampaignId)
    {
        await context.AddInitScriptAsync(InitScript);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/?c={campaignId}");
        return page;
    }

    /// <summary>
    /// Opens a campaign on a phone whose clock says <paramref name="now"/> (and runs on from there),
    /// as a player's phone would during that season; pair it with <see cref="ShiftedClock.TravelTo"/>.
    /// </summary>
    public static async Task<IPage> OpenAtAsync(IBrowserContext context, string campaignId, DateTimeOffset now)
    {
        await context.Clock.InstallAsync(new ClockInstallOptions { TimeString = now.ToString("O") });
        return await OpenAsync(context, campaignId);
    }

    /// <summary>
    /// Opens a link a friend shared (an absolute address of this site, e.g. an invitation), on a
    /// phone whose clock says <paramref name="now"/>, as <see cref="OpenAtAsync"/> does for a campaign.
    /// </summary>
    public static async Task<IPage> OpenLinkAtAsync(IBrowserContext context, string link, DateTimeOffset now)
    {
        await context.Clock.InstallAsync(new ClockInstallOptions { TimeString = now.ToString("O") });
        await context.AddInitScriptAsync(InitScript);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync(link);
        return page;
    }

    /// <summary>Fills the form: the region through the cascading picker, province → city → county.</summary>
    public static async Task FillRegistrationAsync(IPage page, string nickname, string mobile, params string[] regions)
    {
        await page.FillAsync("[data-test=nickname]", nickname);
        await page.FillAsync("[data-test=mobile]", mobile);
        for (var depth = 0; depth < regions.Length; depth++)
            await page.Locator($"[data-test=region-{depth}]").SelectOptionAsync(regions[depth]); // each level appears when the one above is chosen
    }

    public static async Task RegisterAsync(QuizSite site, IPage page, string nickname, params string[] regions)
    {
        var mobile = QuizSite.NextMobile();
        await FillRegistrationAsync(page, nickname, mobile, regions);
        await page.ClickAsync("[data-test=register]");
        await EnterCodeAsync(site, page, mobile);
        await page.Locator("[data-test=start]").WaitForAsync();
    }

    /// <summary>The code step: the code the server sent to the number (its log, in the embedded run), typed in and confirmed.</summary>
    public static async Task EnterCodeAsync(QuizSite site, IPage page, string mobile)
    {
        await Assertions.Expect(page.Locator("[data-test=code-sent]")).ToContainTextAsync($"{mobile[..3]}****{mobile[^4..]}");
        await page.FillAsync("[data-test=code]", await site.CodeSentToAsync(mobile));
        await page.ClickAsync("[data-test=verify]");
    }

    /// <summary>
    /// Answers every question of a scored round (no answers shown during it, so the page moves on by
    /// itself) with the first option; the last answer finishes the round and the result follows it
    /// with no tap on 交卷 (nothing to read before it). Waits for the result.
    /// </summary>
    public static async Task PlayScoredRoundAsync(IPage page, int questions)
    {
        for (var n = 1; n <= questions; n++)
        {
            await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync($"第 {n} / {questions} 题");
            await page.ClickAsync("[data-test=option-0]");
            await page.ClickAsync("[data-test=submit]");
        }
        await page.Locator("[data-test=result]").WaitForAsync();
    }

    /// <summary>Chooses the first option and submits; waits for the server's verdict on screen.</summary>
    public static async Task AnswerAsync(IPage page)
    {
        await page.ClickAsync("[data-test=option-0]");
        await page.ClickAsync("[data-test=submit]");
        await page.Locator("[data-test=feedback]").WaitForAsync();
    }
}
