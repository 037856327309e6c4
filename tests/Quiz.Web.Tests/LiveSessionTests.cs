using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>
/// A live session (issue 16, docs/live.md) as a room plays it: the host on the projector view
/// (/live/host, 1920×1080) and three phones on /live (360×640): one from the QR's link, one typing
/// the code, one registered participant; a must-answer round and a buzz round.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed partial class LiveSessionTests(QuizSite site)
{
    private static readonly string[] Yaohai = ["340000", "340100", "340102"]; // 安徽省 › 合肥市 › 瑶海区
    private static readonly string[] Hefei = ["340000", "340100"]; // a guest may stop at any level

    [Fact]
    public async Task AHostAndThreePhonesPlayBothRoundKindsThroughAReloadOnEachSide()
    {
        await using var hostContext = await site.NewContextAsync(phone: false);
        var host = await hostContext.NewPageAsync();
        host.SetDefaultTimeout(15_000);
        host.Dialog += async (_, dialog) => await dialog.AcceptAsync(); // "end this session?"
        await host.GotoAsync("/live/host");
        await QuizSite.ScreensAsync(host, "live-host-0-sign-in");
        await host.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await host.FillAsync("[data-test=login-password]", QuizSite.Password);
        await host.ClickAsync("[data-test=login]");

        // A session of four questions: three everyone answers (one of them skipped), then one to buzz in on.
        await host.FillAsync("[data-test=title]", "瑶海区防范非法集资现场竞答");
        await host.FillAsync("[data-test=unit-code]", "340102");
        await host.FillAsync("[data-test=ids]", "GEN-001, GEN-002, GEN-004, GEN-005"); // keys: C, D, B, B
        await host.FillAsync("[data-test=round-count-0]", "3");
        await host.ClickAsync("[data-test=add-round]");
        await host.Locator("[data-test=round-kind-1]").SelectOptionAsync("buzz");
        await host.FillAsync("[data-test=round-count-1]", "1");
        await host.FillAsync("[data-test=seconds]", "120"); // the host closes each question: no deadline races the screenshots
        await QuizSite.ScreensAsync(host, "live-host-1-create");
        await host.ClickAsync("[data-test=create]");

        await host.SetViewportSizeAsync(1920, 1080);
        var code = host.Locator("[data-test=code]");
        await Assertions.Expect(code).ToHaveTextAsync(SixDigits());
        var roomCode = (await code.InnerTextAsync()).Trim();
        Assert.Matches(@"/live/host\?s=.+", host.Url);
        await Assertions.Expect(host.Locator("[data-test=qr]")).ToBeVisibleAsync();
        await Assertions.Expect(host.Locator("[data-test=act-show]")).ToBeEnabledAsync();
        await Assertions.Expect(host.Locator("[data-test=act-reveal]")).ToBeDisabledAsync();

        // Three phones join: from the QR's link, by typing the code, and as a registered participant.
        await using var contextA = await site.NewContextAsync(phone: true);
        var a = await OpenPhoneAsync(contextA, $"/live?code={roomCode}");
        await Assertions.Expect(a.Locator("[data-test=session-title]")).ToHaveTextAsync("瑶海区防范非法集资现场竞答");
        await GuestJoinAsync(a, "王阿姨", Yaohai);
        await QuizSite.ScreensAsync(a, "live-phone-2-lobby");
        await a.ClickAsync("[data-test=language]");
        await Assertions.Expect(a.Locator("[data-test=lobby]")).ToContainTextAsync("Welcome, 王阿姨");
        await a.ClickAsync("[data-test=language]");

        await using var contextB = await site.NewContextAsync(phone: true);
        var b = await OpenPhoneAsync(contextB, "/live");
        await QuizSite.ScreensAsync(b, "live-phone-0-code");
        await b.FillAsync("[data-test=code]", "12345");
        await b.ClickAsync("[data-test=code-next]");
        await Assertions.Expect(b.Locator("[data-test=error]")).ToBeVisibleAsync(); // five digits are no code
        await b.FillAsync("[data-test=code]", roomCode);
        await b.ClickAsync("[data-test=code-next]");
        await Assertions.Expect(b.Locator("[data-test=details-step]")).ToBeVisibleAsync();
        await b.FillAsync("[data-test=nickname]", "小李");
        for (var depth = 0; depth < Hefei.Length; depth++) await b.Locator($"[data-test=region-{depth}]").SelectOptionAsync(Hefei[depth]);
        await QuizSite.ScreensAsync(b, "live-phone-1-details");
        await b.ClickAsync("[data-test=join]");
        await Assertions.Expect(b.Locator("[data-test=lobby]")).ToBeVisibleAsync();

        await using var contextC = await site.NewContextAsync(phone: true);
        var c = await Phone.OpenAsync(contextC);
        await Phone.RegisterAsync(site, c, "老张", Yaohai);
        await c.GotoAsync($"/live?code={roomCode}");
        await Assertions.Expect(c.Locator("[data-test=join-participant]")).ToContainTextAsync("老张");
        await QuizSite.ScreensAsync(c, "live-phone-1b-participant");
        await c.ClickAsync("[data-test=join-participant]");
        await Assertions.Expect(c.Locator("[data-test=lobby]")).ToContainTextAsync("老张");

        await Assertions.Expect(host.Locator("[data-test=lobby-audience]")).ToHaveTextAsync("3");
        await ProjectorAsync(host, "live-host-2-lobby");

        // Question 1 (everyone answers): A right, B wrong, C reloads before answering and answers right.
        await host.ClickAsync("[data-test=act-show]");
        await Assertions.Expect(host.Locator("[data-test=stage-progress]")).ToHaveTextAsync("第 1 / 4 题");
        foreach (var phone in new[] { a, b, c })
        {
            await Assertions.Expect(phone.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 4 题");
            await Assertions.Expect(phone.Locator("[data-test=kind]")).ToHaveTextAsync("必答题");
        }
        await Assertions.Expect(a.Locator("[data-test=countdown]")).ToContainTextAsync(new Regex(@"[12]:\d\d"));
        await QuizSite.ScreensAsync(a, "live-phone-3-question");
        await AnswerAsync(a, 2);
        await QuizSite.ScreensAsync(a, "live-phone-4-received");
        await AnswerAsync(b, 0);
        await c.ReloadAsync();
        await Assertions.Expect(c.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 4 题");
        await Assertions.Expect(c.Locator("[data-test=submit]")).ToBeVisibleAsync(); // back in, the question still open to it
        await AnswerAsync(c, 2);
        await a.ReloadAsync(); // a reload after answering keeps "answer received"
        await Assertions.Expect(a.Locator("[data-test=received]")).ToBeVisibleAsync();
        await Assertions.Expect(host.Locator("[data-test=answered]")).ToHaveTextAsync("3");
        await ProjectorAsync(host, "live-host-3-question");

        await host.ClickAsync("[data-test=act-close]");
        await Assertions.Expect(host.Locator("[data-test=stage-phase]")).ToHaveTextAsync("作答结束");
        await Assertions.Expect(b.Locator("[data-test=closed]")).ToBeVisibleAsync();
        await Assertions.Expect(host.Locator("[data-test=act-show]")).ToBeDisabledAsync();
        await host.ClickAsync("[data-test=act-reveal]");
        await Assertions.Expect(host.Locator("[data-test=count-2]")).ToHaveTextAsync("2");
        await Assertions.Expect(host.Locator("[data-test=count-0]")).ToHaveTextAsync("1");
        await Assertions.Expect(host.Locator("[data-test=stage-key]")).ToHaveTextAsync("C");
        await Assertions.Expect(host.Locator("[data-test=top10] li")).ToHaveCountAsync(3);
        await ProjectorAsync(host, "live-host-4-reveal");

        await Assertions.Expect(a.Locator("[data-test=verdict]")).ToHaveTextAsync("答对了");
        await Assertions.Expect(a.Locator("[data-test=place]")).ToHaveTextAsync(new Regex(@"^第 [12] 名 / 共 3 人$"));
        await Assertions.Expect(c.Locator("[data-test=verdict]")).ToHaveTextAsync("答对了");
        await Assertions.Expect(b.Locator("[data-test=verdict]")).ToHaveTextAsync("答错了");
        await Assertions.Expect(b.Locator("[data-test=points]")).ToHaveTextAsync("0");
        await Assertions.Expect(b.Locator("[data-test=place]")).ToHaveTextAsync("第 3 名 / 共 3 人");
        await Assertions.Expect(b.Locator("[data-test=key]")).ToContainTextAsync("C.");
        await b.ReloadAsync(); // back between questions: the score and the place come with the rejoin
        await Assertions.Expect(b.Locator("[data-test=standing]")).ToHaveTextAsync("总分：0 · 第 3 名 / 共 3 人");
        var pointsA = int.Parse(await a.Locator("[data-test=points]").InnerTextAsync(), System.Globalization.NumberStyles.AllowThousands, new System.Globalization.CultureInfo("zh-CN"));
        Assert.InRange(pointsA, 500, 1000); // right, within the speed rule's range
        await QuizSite.ScreensAsync(a, "live-phone-5-result");
        await a.ClickAsync("[data-test=elderly]");
        await QuizSite.ScreensAsync(a, "live-phone-5b-result-elderly");
        await a.ClickAsync("[data-test=elderly]");

        // Question 2: the host reloads mid-question and resumes; a pause and a resume; B's connection drops and comes back.
        await host.ClickAsync("[data-test=act-show]");
        await Assertions.Expect(host.Locator("[data-test=stage-progress]")).ToHaveTextAsync("第 2 / 4 题");
        await host.ReloadAsync();
        await Assertions.Expect(host.Locator("[data-test=stage-progress]")).ToHaveTextAsync("第 2 / 4 题");
        await Assertions.Expect(host.Locator("[data-test=stage-countdown]")).ToHaveTextAsync(new Regex(@"^\d+$"));
        await Assertions.Expect(host.Locator("[data-test=act-close]")).ToBeEnabledAsync();
        await host.ClickAsync("[data-test=act-pause]");
        await Assertions.Expect(a.Locator("[data-test=paused]")).ToBeVisibleAsync();
        await Assertions.Expect(a.Locator("[data-test=option-3]")).ToBeDisabledAsync();
        await QuizSite.ScreensAsync(a, "live-phone-6-paused");
        await host.ClickAsync("[data-test=act-resume]");
        await Assertions.Expect(a.Locator("[data-test=submit]")).ToBeVisibleAsync();

        await b.EvaluateAsync("() => window.__sockets.forEach(s => s.close())");
        await Assertions.Expect(b.Locator("[data-test=submit]")).ToBeVisibleAsync();
        await AnswerAsync(b, 3); // answered over the new connection, joined again with the rejoin key
        await AnswerAsync(a, 3);
        await AnswerAsync(c, 1);
        await Assertions.Expect(host.Locator("[data-test=answered]")).ToHaveTextAsync("3");
        await host.ClickAsync("[data-test=act-close]");
        await host.ClickAsync("[data-test=act-reveal]");
        await Assertions.Expect(host.Locator("[data-test=count-3]")).ToHaveTextAsync("2");
        await Assertions.Expect(b.Locator("[data-test=verdict]")).ToHaveTextAsync("答对了");
        await Assertions.Expect(c.Locator("[data-test=verdict]")).ToHaveTextAsync("答错了");

        // Question 3 is skipped while open: nobody scores it.
        await host.ClickAsync("[data-test=act-show]");
        await Assertions.Expect(a.Locator("[data-test=progress]")).ToHaveTextAsync("第 3 / 4 题");
        await AnswerAsync(a, 1);
        await host.ClickAsync("[data-test=act-skip]");
        await Assertions.Expect(host.Locator("[data-test=skipped]")).ToBeVisibleAsync();
        await Assertions.Expect(a.Locator("[data-test=verdict]")).ToHaveTextAsync("本题已跳过，不计分");
        await Assertions.Expect(a.Locator("[data-test=points]")).ToHaveTextAsync("0");
        await QuizSite.ScreensAsync(a, "live-phone-6b-skipped");

        // Question 4 (buzz): B's right answer wins it and closes it for everyone.
        await host.ClickAsync("[data-test=act-show]");
        await Assertions.Expect(b.Locator("[data-test=kind]")).ToHaveTextAsync("抢答题");
        await QuizSite.ScreensAsync(a, "live-phone-7-buzz");
        await AnswerAsync(b, 1);
        await Assertions.Expect(host.Locator("[data-test=stage-phase]")).ToHaveTextAsync("作答结束");
        await Assertions.Expect(a.Locator("[data-test=closed]")).ToBeVisibleAsync();
        await Assertions.Expect(a.Locator("[data-test=option-1]")).ToBeDisabledAsync();
        await host.ClickAsync("[data-test=act-reveal]");
        await Assertions.Expect(a.Locator("[data-test=buzz-winner]")).ToContainTextAsync("小李");
        await Assertions.Expect(host.Locator("[data-test=stage-buzz-winner]")).ToContainTextAsync("小李（合肥市）");
        await Assertions.Expect(a.Locator("[data-test=verdict]")).ToHaveTextAsync("本题没有作答");
        await Assertions.Expect(b.Locator("[data-test=verdict]")).ToHaveTextAsync("答对了");
        await Assertions.Expect(host.Locator("[data-test=act-show]")).ToBeDisabledAsync(); // that was the last question
        await ProjectorAsync(host, "live-host-5-buzz-reveal");

        await host.ClickAsync("[data-test=act-end]");
        await Assertions.Expect(host.Locator("[data-test=stage-podium] li")).ToHaveCountAsync(3);
        await ProjectorAsync(host, "live-host-6-podium");
        foreach (var phone in new[] { a, b, c })
            await Assertions.Expect(phone.Locator("[data-test=podium] li")).ToHaveCountAsync(3);
        await Assertions.Expect(b.Locator("[data-test=final]")).ToContainTextAsync(new Regex(@"第 \d 名 / 共 3 人"));
        // B's total on the phone is B's on the podium.
        var podiumB = await host.Locator("[data-test=stage-podium] li", new() { HasText = "小李" }).Locator(".pts").InnerTextAsync();
        await Assertions.Expect(b.Locator("[data-test=final-total]")).ToHaveTextAsync($"总分：{podiumB.Replace(" 分", "")}");
        await QuizSite.ScreensAsync(b, "live-phone-8-ended");

        // Afterwards: the results to download and the report, replayed from the store.
        var xlsx = await host.APIRequest.GetAsync(await host.Locator("[data-test=stage-xlsx]").GetAttributeAsync("href") ?? "");
        Assert.Equal((200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (xlsx.Status, xlsx.Headers["content-type"]));
        await host.ClickAsync("[data-test=stage-report]");
        await Assertions.Expect(host.Locator("[data-test=report-summary]")).ToContainTextAsync("3 人参加");
        await Assertions.Expect(host.Locator("[data-test=live-report] article")).ToHaveCountAsync(4);
        await Assertions.Expect(host.Locator("[data-test=report-top] tbody tr", new() { HasText = "小李" })).ToContainTextAsync(podiumB.Replace(" 分", ""));
        await Assertions.Expect(host.Locator("[data-test=report-q0] [data-test=report-rate]")).ToContainTextAsync("3 人作答");
        var csv = await host.APIRequest.GetAsync(await host.Locator("[data-test=report-csv]").GetAttributeAsync("href") ?? "");
        Assert.Contains("小李", await csv.TextAsync());
        await QuizSite.ScreensAsync(host, "live-host-8-report");

        // Back to the list: the session is there, ended, with its report.
        await host.ClickAsync("[data-test=back]");
        await Assertions.Expect(host.Locator($"[data-test=session-{roomCode}]")).ToContainTextAsync("已结束");
        await Assertions.Expect(host.Locator($"[data-test=session-{roomCode}] [data-test=session-report]")).ToBeVisibleAsync();
        await QuizSite.ScreensAsync(host, "live-host-7-sessions");
    }

    [Fact]
    public async Task UnitStaffCreateASessionDrawnFromATrackForTheirUnit()
    {
        var staff = await site.CreateStaffAsync("live-baohe", Roles.UnitStaff, "340111"); // 包河区
        await using var context = await site.NewContextAsync(phone: false);
        var host = await context.NewPageAsync();
        host.SetDefaultTimeout(15_000);
        await host.GotoAsync("/live/host");
        await host.FillAsync("[data-test=login-name]", staff);
        await host.FillAsync("[data-test=login-password]", QuizSite.Password);
        await host.ClickAsync("[data-test=login]");
        await Assertions.Expect(host.Locator("[data-test=unit-code]")).ToHaveCountAsync(0); // their own unit, not asked

        await host.FillAsync("[data-test=title]", "包河区现场竞答");
        await host.CheckAsync("[data-test=source-track]");
        await host.Locator("[data-test=track]").SelectOptionAsync("elderly");
        await host.FillAsync("[data-test=count]", "5");
        await host.FillAsync("[data-test=round-count-0]", "4");
        await host.ClickAsync("[data-test=create]");
        await Assertions.Expect(host.Locator("[data-test=error]")).ToHaveTextAsync("各轮题数之和（4）要等于题数（5）");
        await QuizSite.ScreensAsync(host, "live-host-1b-create-track");
        await host.FillAsync("[data-test=round-count-0]", "5");
        await host.ClickAsync("[data-test=create]");
        await Assertions.Expect(host.Locator("[data-test=code]")).ToHaveTextAsync(SixDigits());
        var roomCode = (await host.Locator("[data-test=code]").InnerTextAsync()).Trim();

        await host.ClickAsync("[data-test=back]");
        var listed = host.Locator($"[data-test=session-{roomCode}]");
        await Assertions.Expect(listed).ToContainTextAsync("包河区");
        await Assertions.Expect(listed).ToContainTextAsync("5 题");

        // A phone with a code no session has is told so, on the code's step.
        await using var phoneContext = await site.NewContextAsync(phone: true);
        var phone = await OpenPhoneAsync(phoneContext, "/live?code=000000");
        await Assertions.Expect(phone.Locator("[data-test=error]")).ToHaveTextAsync("没有找到这个房间，或竞答已经结束，请核对房间号");
        await QuizSite.ScreensAsync(phone, "live-phone-0b-no-session");

        // A registered person's phone handed to a neighbour: they join as a guest of their own.
        await using var sharedContext = await site.NewContextAsync(phone: true);
        var shared = await Phone.OpenAsync(sharedContext);
        await Phone.RegisterAsync(site, shared, "老王", Yaohai);
        await shared.GotoAsync($"/live?code={roomCode}");
        await Assertions.Expect(shared.Locator("[data-test=join-participant]")).ToContainTextAsync("老王");
        await shared.ClickAsync("[data-test=join-as-guest]");
        await QuizSite.ScreensAsync(shared, "live-phone-1c-guest-on-a-registered-phone");
        await GuestJoinAsync(shared, "邻居小赵", Hefei);
    }

    private static async Task<IPage> OpenPhoneAsync(IBrowserContext context, string path)
    {
        await context.AddInitScriptAsync(Phone.InitScript);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync(path);
        return page;
    }

    private static async Task GuestJoinAsync(IPage page, string nickname, string[] regions)
    {
        await page.FillAsync("[data-test=nickname]", nickname);
        for (var depth = 0; depth < regions.Length; depth++) await page.Locator($"[data-test=region-{depth}]").SelectOptionAsync(regions[depth]);
        await page.ClickAsync("[data-test=join]");
        await Assertions.Expect(page.Locator("[data-test=lobby]")).ToContainTextAsync(nickname);
    }

    private static async Task AnswerAsync(IPage page, int option)
    {
        await page.ClickAsync($"[data-test=option-{option}]");
        await page.ClickAsync("[data-test=submit]");
        await Assertions.Expect(page.Locator("[data-test=received]")).ToBeVisibleAsync();
    }

    /// <summary>A projector's state: its screenshot at 1920×1080 and axe-core's check.</summary>
    private static async Task ProjectorAsync(IPage page, string name)
    {
        await page.SetViewportSizeAsync(1920, 1080);
        await QuizSite.ScreenshotAsync(page, $"{name}-1920x1080");
        await Axe.AssertAccessibleAsync(page, $"{name} at 1920x1080");
    }

    [GeneratedRegex(@"^\d{6}$")]
    private static partial Regex SixDigits();
}
