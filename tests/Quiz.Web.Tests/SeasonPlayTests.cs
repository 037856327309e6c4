using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>
/// The phone page plays each season's sample campaign (question-bank/campaigns) as it ran, at the
/// 360×560 WeChat leaves of a phone screen: the server and the phone are moved to a day of the
/// season; nothing else is stood in for.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class SeasonPlayTests(QuizSite site)
{
    private static readonly string[] Yaohai = ["340000", "340100", "340102"]; // 安徽省 › 合肥市 › 瑶海区
    /// <summary>2025's form asks for the province alone (its campaign's <c>registration</c>).</summary>
    private static readonly string[] Anhui = ["340000"]; // 安徽省
    private const int WeChatHeight = 560;

    [Fact]
    public async Task Plays2023MainStageWithoutAScenePicker()
    {
        var now = new DateTimeOffset(2023, 6, 16, 10, 30, 0, TimeSpan.FromHours(8)); // main stage: 15–21 June, 10 questions, 3 minutes
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2023-june", now);
        await Phone.RegisterAsync(site, page, "周师傅", Yaohai);

        await Assertions.Expect(page.Locator("[data-test=scene-picker]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=start]")).ToHaveTextAsync("开始答题");
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveCountAsync(0);
        await Phone.PlayScoredRoundAsync(page, 10);

        Assert.InRange(int.Parse(await page.Locator("[data-test=score]").InnerTextAsync()), 0, 100); // 10 points a question
        await Assertions.Expect(page.Locator("[data-test=result]")).ToContainTextAsync("/ 100");
        await Assertions.Expect(page.Locator("[data-test=result-scene]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=again]")).ToHaveCountAsync(0); // one round a day
        await QuizSite.ScreensAsync(page, "season-2023-result");
    }

    [Fact]
    public async Task Plays2024InAPickedSceneAndAnotherSceneTheSameDayIsRefusedWithTodaysOffered()
    {
        var now = new DateTimeOffset(2024, 6, 13, 11, 0, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2024-june", now);
        await Phone.RegisterAsync(site, page, "刘大爷", Yaohai);

        var picker = page.Locator("[data-test=scene-picker]");
        await Assertions.Expect(picker).ToBeVisibleAsync();
        await Assertions.Expect(picker.Locator("button")).ToHaveTextAsync(["校园", "职场", "城市", "乡村"]);
        await AssertLargeChoicesAsync(page, picker.Locator("button"), onFirstScreen: true);

        // Start without a choice: told what to do, and no round is started.
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=start-error]")).ToHaveTextAsync("请先在上面选一个场景，再点开始答题");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveCountAsync(0);

        await page.ClickAsync("[data-test=scene-city]");
        await Assertions.Expect(page.Locator("[data-test=scene-city]")).ToHaveAttributeAsync("aria-pressed", "true");
        await Assertions.Expect(page.Locator("[data-test=start-error]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=start]")).ToHaveTextAsync("开始答题：城市");
        await AssertOnScreenAsync(page, page.Locator("[data-test=start]"));
        await QuizSite.ScreensAsync(page, "season-2024-1-picker");

        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveTextAsync("场景：城市");
        await QuizSite.ScreensAsync(page, "season-2024-2-round");
        await Phone.PlayScoredRoundAsync(page, 5);
        Assert.InRange(int.Parse(await page.Locator("[data-test=score]").InnerTextAsync()), 0, 5); // 1 point a question
        await Assertions.Expect(page.Locator("[data-test=result-scene]")).ToHaveTextAsync("场景：城市");
        await Assertions.Expect(page.Locator("[data-test=result]")).ToContainTextAsync("今天还可答 2 次");
        await QuizSite.ScreensAsync(page, "season-2024-3-result");

        // Back home the choice is remembered; another scene the same day is refused by the server.
        await page.ClickAsync("[data-test=home]");
        await Assertions.Expect(page.Locator("[data-test=scene-city]")).ToHaveAttributeAsync("aria-pressed", "true");
        await page.ClickAsync("[data-test=scene-countryside]");
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=start-error]")).ToHaveTextAsync(
            "今天已经选了“城市”，每天只能答一个场景。可以继续答“城市”，其他场景请明天再来。");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=scene-city]")).ToContainTextAsync("今天的场景");
        var offer = page.Locator("[data-test=play-taken]");
        await Assertions.Expect(offer).ToHaveTextAsync("继续答“城市”");
        await AssertOnScreenAsync(page, page.Locator("[data-test=start-error]"));
        await AssertOnScreenAsync(page, offer);
        await QuizSite.ScreensAsync(page, "season-2024-4-scene-taken");

        await offer.ClickAsync();
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveTextAsync("场景：城市");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");

        // A reload brings the round in play back, with its scene.
        await page.ClickAsync("[data-test=option-0]");
        await page.ClickAsync("[data-test=submit]");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 2 / 5 题");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveTextAsync("场景：城市");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 2 / 5 题");
    }

    [Fact]
    public async Task The2024RulesNameTheScenesAndTheOneADayRule()
    {
        var now = new DateTimeOffset(2024, 6, 12, 10, 0, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2024-june", now);
        await Phone.RegisterAsync(site, page, "郑老师", Yaohai);
        await page.ClickAsync("[data-test=rules]");
        await Assertions.Expect(page.Locator("[data-test=rules-scenes]")).ToHaveTextAsync("可选场景：校园、职场、城市、乡村；每天选一个，当天的机会都在这个场景中使用");
        // The rule by which attempts add up, in words (the campaign is served with its rules' names, not enum numbers).
        await Assertions.Expect(page.GetByText("每个场景取最好成绩，各场景成绩相加")).ToBeVisibleAsync();
        Assert.DoesNotContain("agg_", await page.InnerTextAsync("body"));
    }

    [Fact]
    public async Task The2025RulesNameTheRolesTheLadderTheFlowersAndNoPersonalRanking()
    {
        var now = new DateTimeOffset(2025, 6, 11, 10, 0, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2025-june", now);
        await Phone.RegisterAsync(site, page, "何叔叔", Anhui);
        await page.ClickAsync("[data-test=rules]");
        await Assertions.Expect(page.Locator("[data-test=rules-scenes]")).ToHaveTextAsync("可选角色：老年阿姨、中年大叔、中年阿姨、大学生；可随时换角色，每天的机会各角色共用");
        await Assertions.Expect(page.Locator("[data-test=rules-ladder]")).ToHaveTextAsync("每个角色都有自己的阶梯：答对一题上一级，答错一题下一级；5题全对即“解救”该角色");
        await Assertions.Expect(page.Locator("[data-test=rules-flowers]")).ToHaveTextAsync("每轮全对得 10 朵花，否则答对1题得1朵");
        await Assertions.Expect(page.Locator("[data-test=rules-no-ranking]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".card")).Not.ToContainTextAsync("同分用时短者在前");
    }

    [Fact]
    public async Task Plays2025WithARolePickedInElderlyModeAndInEnglish()
    {
        var now = new DateTimeOffset(2025, 6, 12, 10, 5, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2025-june", now);
        await Phone.RegisterAsync(site, page, "孙阿姨", Anhui);

        await page.ClickAsync("[data-test=elderly]");
        var roles = page.Locator("[data-test=scene-picker] button");
        await Assertions.Expect(roles).ToHaveTextAsync(["老年阿姨", "中年大叔", "中年阿姨", "大学生"]);
        await AssertLargeChoicesAsync(page, roles, onFirstScreen: false);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "nothing runs off the side in elderly mode");
        await AssertOnScreenAsync(page, page.Locator("[data-test=start]")); // kept at the bottom of the screen

        await page.ClickAsync("[data-test=scene-student]");
        await page.ClickAsync("[data-test=language]");
        await Assertions.Expect(page.Locator("[data-test=scene-picker] h3")).ToHaveTextAsync("Choose a scene");
        await Assertions.Expect(page.Locator("[data-test=start]")).ToHaveTextAsync("Start: 大学生");
        await QuizSite.ScreensAsync(page, "season-2025-1-roles-elderly-english");
        await page.ClickAsync("[data-test=language]");
        await page.ClickAsync("[data-test=elderly]");

        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveTextAsync("场景：大学生");
        await Phone.PlayScoredRoundAsync(page, 5);
        Assert.InRange(int.Parse(await page.Locator("[data-test=score]").InnerTextAsync()), 0, 5);
        await Assertions.Expect(page.Locator("[data-test=result-scene]")).ToHaveTextAsync("场景：大学生");
        await QuizSite.ScreensAsync(page, "season-2025-2-result");

        // The next round starts in the same role straight from the result.
        await page.ClickAsync("[data-test=again]");
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveTextAsync("场景：大学生");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");
    }

    [Fact]
    public async Task APhoneWhoseDateIsWrongIsShownTheScenesWhenTheServerAsksForOne()
    {
        // A warm-up without scenes, then a main stage with scenes; the server is in the main stage,
        // the phone's clock still in the warm-up, so the page starts without a scene at first.
        var campaignId = $"scene-clock-{Guid.NewGuid():N}"[..24];
        await SaveCampaignAsync($$"""
            { "id": "{{campaignId}}", "name": "场景测试", "utcOffset": "+08:00", "stages": [
              { "id": "warm-up", "name": "热身赛", "startDay": "2024-06-10", "endDay": "2024-06-11", "questionsPerRound": 5,
                "roundSeconds": 120, "attemptsPerDay": 3, "aggregation": "best", "showAnswers": true },
              { "id": "main", "name": "知识竞答", "startDay": "2024-06-12", "endDay": "2024-06-18", "questionsPerRound": 5,
                "roundSeconds": 120, "attemptsPerDay": 3, "aggregation": "best-per-scene-summed", "showAnswers": false,
                "scenes": [ { "id": "campus", "name": "校园", "pool": ["student", "general"] },
                            { "id": "countryside", "name": "乡村", "pool": ["countryside", "general"] } ] } ] }
            """);
        var serverNow = new DateTimeOffset(2024, 6, 12, 11, 0, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(serverNow);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, campaignId, serverNow.AddDays(-1));
        await Phone.RegisterAsync(site, page, "吴大姐", Yaohai);
        await Assertions.Expect(page.Locator("[data-test=scene-picker]")).ToHaveCountAsync(0);

        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=start-error]")).ToHaveTextAsync("请先选一个场景再开始答题");
        await Assertions.Expect(page.Locator("[data-test=scene-picker] button")).ToHaveTextAsync(["校园", "乡村"]);
        await page.ClickAsync("[data-test=scene-countryside]");
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveTextAsync("场景：乡村");
    }

    [Fact]
    public async Task ASceneRenamedSinceThePageLoadedIsRefusedAndTheScenesAsTheyAreNowAreOffered()
    {
        var campaignId = $"scene-rename-{Guid.NewGuid():N}"[..24];
        string Definition(string city) => $$"""
            { "id": "{{campaignId}}", "name": "场景改名测试", "utcOffset": "+08:00", "stages": [
              { "id": "main", "name": "知识竞答", "startDay": "2024-06-12", "endDay": "2024-06-18", "questionsPerRound": 5,
                "roundSeconds": 120, "attemptsPerDay": 3, "aggregation": "best-per-scene-summed", "showAnswers": false,
                "scenes": [ { "id": "campus", "name": "校园", "pool": ["student", "general"] },
                            { "id": "{{city}}", "name": "城市", "pool": ["city", "general"] } ] } ] }
            """;
        await SaveCampaignAsync(Definition("city"));
        var now = new DateTimeOffset(2024, 6, 14, 15, 0, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, campaignId, now);
        await Phone.RegisterAsync(site, page, "冯叔叔", Yaohai);
        await page.ClickAsync("[data-test=scene-city]");

        await SaveCampaignAsync(Definition("town")); // an admin renames the scene while the page is open
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=start-error]")).ToHaveTextAsync("没有这个场景，请重新选择");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=scene-town]")).ToHaveAttributeAsync("aria-pressed", "false");
        await page.ClickAsync("[data-test=scene-town]");
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=round-scene]")).ToHaveTextAsync("场景：城市");
    }

    [Fact]
    public async Task The2025FormAsksForTheProvinceAloneAndNoTrackAndThePersonPlaysARound()
    {
        var now = new DateTimeOffset(2025, 6, 16, 10, 10, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2025-june", now);

        // The province picker and the optional work unit; no track, and no city once the province is chosen.
        await Assertions.Expect(page.Locator("[data-test=region-0]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-test=track-choice]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test^=track-]")).ToHaveCountAsync(0);
        var mobile = QuizSite.NextMobile();
        await Phone.FillRegistrationAsync(page, "省内用户", mobile, Anhui);
        await Assertions.Expect(page.Locator("[data-test=region-1]")).ToHaveCountAsync(0);
        var box = (await page.Locator("[data-test=region-0]").BoundingBoxAsync())!;
        Assert.True(box.X >= 0 && box.X + box.Width <= 360, $"the province picker runs off the side ({box.X}+{box.Width})");
        await QuizSite.ScreensAsync(page, "season-2025-0-register-province");

        // The form names its campaign and sends no track: the server checks it by 2025's rules and takes it.
        var sent = page.WaitForRequestAsync(r => r.Url.EndsWith("/api/participants/register"));
        await page.ClickAsync("[data-test=register]");
        var form = System.Text.Json.JsonDocument.Parse((await sent).PostData!).RootElement;
        Assert.Equal("2025-june", form.GetProperty("campaignId").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, form.GetProperty("track").ValueKind);
        Assert.Equal("340000", form.GetProperty("regionCode").GetString());
        await Phone.EnterCodeAsync(site, page, mobile);
        await page.Locator("[data-test=start]").WaitForAsync();

        await page.ClickAsync("[data-test=scene-student]");
        await page.ClickAsync("[data-test=start]");
        await Phone.PlayScoredRoundAsync(page, 5);
        await Assertions.Expect(page.Locator(".review li")).ToHaveCountAsync(5);
    }

    [Fact]
    public async Task Plays2025AsARoleAndSeesTheLadderStepAndFlowersButNoPersonalRank()
    {
        var now = new DateTimeOffset(2025, 6, 13, 10, 30, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2025-june", now);
        await Phone.RegisterAsync(site, page, "钱阿姨", Anhui);

        // Home, before any round: every role at the foot of its ladder, no flowers yet.
        await Assertions.Expect(page.Locator("[data-test=role-ladder-elderly-woman] [data-test=ladder-step]")).ToHaveTextAsync("第 0 级");
        await Assertions.Expect(page.Locator("[data-test=flowers-total]")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("[data-test=scene-hint]")).ToHaveTextAsync("角色可以随时换，每天的答题机会各角色共用。");

        await page.ClickAsync("[data-test=scene-elderly-woman]");
        await page.ClickAsync("[data-test=start]");
        await Phone.PlayScoredRoundAsync(page, 5);

        // The step the server's rule gives for the answers the review shows, in order (a right one climbs, a wrong one drops, not below 0).
        var right = (await page.Locator(".review li").EvaluateAllAsync<string[]>("items => items.map(i => i.className)"))
            .Select(c => c.Contains("ok")).ToList();
        Assert.Equal(5, right.Count);
        var step = right.Aggregate(0, (s, r) => r ? s + 1 : Math.Max(0, s - 1));
        var allRight = right.All(r => r);
        var flowers = allRight ? 10 : right.Count(r => r);

        var climb = page.Locator("[data-test=result-ladder]");
        await Assertions.Expect(climb.Locator("[data-test=ladder-step]")).ToHaveTextAsync($"第 {step} 级");
        await Assertions.Expect(climb).ToContainTextAsync("老年阿姨");
        await Assertions.Expect(climb.Locator("[data-test=ladder-rescued]")).ToHaveCountAsync(allRight ? 1 : 0);
        await Assertions.Expect(page.Locator("[data-test=score]")).ToHaveTextAsync(flowers.ToString());
        await Assertions.Expect(page.Locator("[data-test=round-flowers]")).ToContainTextAsync($"本轮获得 {flowers} 朵花");
        await Assertions.Expect(page.Locator("[data-test=flowers-total]")).ToHaveTextAsync(flowers.ToString());

        // No personal rank anywhere on the result: the season has none.
        foreach (var rank in new[] { "national-rank", "unit-rank", "organisation-rank", "my-unit-rank" })
            await Assertions.Expect(page.Locator($"[data-test={rank}]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=result]")).Not.ToContainTextAsync("全国排名");
        await Assertions.Expect(page.Locator("[data-test=no-ranking]")).ToHaveTextAsync("本届不设个人排名：按累计花朵和积分兑换奖品");
        await AssertOnScreenAsync(page, climb);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "nothing runs off the side");
        await QuizSite.ScreensAsync(page, "season-2025-3-ladder-result");

        await page.ClickAsync("[data-test=language]");
        await Assertions.Expect(climb.Locator("[data-test=ladder-step]")).ToHaveTextAsync($"Step {step}");
        await page.ClickAsync("[data-test=language]");

        // The boards offer only the unit boards.
        await page.ClickAsync("[data-test=boards]");
        await Assertions.Expect(page.Locator("[role=tab]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-test=tab-units]")).ToHaveAttributeAsync("aria-selected", "true");
        await Assertions.Expect(page.Locator("table thead")).ToContainTextAsync("平均花朵"); // the units' average is flowers, not points
        await QuizSite.ScreensAsync(page, "season-2025-3b-unit-boards");
        await page.ClickAsync("text=返回");

        // Home: the role's step from the server's totals, the other roles untouched.
        await page.ClickAsync("[data-test=home]");
        await Assertions.Expect(page.Locator("[data-test=role-ladder-elderly-woman] [data-test=ladder-step]")).ToHaveTextAsync($"第 {step} 级");
        await Assertions.Expect(page.Locator("[data-test=role-ladder-student] [data-test=ladder-step]")).ToHaveTextAsync("第 0 级");
        await Assertions.Expect(page.Locator("[data-test=flowers-total]")).ToHaveTextAsync(flowers.ToString());
        await Assertions.Expect(page.Locator("[data-test=best-round]")).ToHaveTextAsync($"{flowers} 朵花"); // a round scores flowers, not points
        await Assertions.Expect(page.Locator("[data-test=prize-certificate]")).ToContainTextAsync(flowers >= 10 ? "已达到" : $"还差：{10 - flowers} 朵花");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "nothing runs off the side");
        await QuizSite.ScreensAsync(page, "season-2025-4-home-totals");
        await page.ClickAsync("[data-test=elderly]");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "nothing runs off the side in elderly mode");
        await QuizSite.ScreensAsync(page, "season-2025-4-home-totals-elderly");
    }

    [Fact]
    public async Task AFriendWhoRegistersFromMyInvitationLinkAndPlaysGivesMeAnotherAttemptAndTwoPoints()
    {
        var now = new DateTimeOffset(2025, 6, 14, 11, 0, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var mine = await site.NewContextAsync(phone: true, WeChatHeight);
        await mine.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var me = await Phone.OpenAtAsync(mine, "2025-june", now);
        await Phone.RegisterAsync(site, me, "王大妈", Anhui);

        // All three of today's attempts used.
        await me.ClickAsync("[data-test=scene-middle-aged-woman]");
        await me.ClickAsync("[data-test=start]");
        for (var round = 1; round <= 3; round++)
        {
            if (round > 1) await me.ClickAsync("[data-test=again]");
            await Phone.PlayScoredRoundAsync(me, 5);
        }
        await Assertions.Expect(me.Locator("[data-test=again]")).ToHaveCountAsync(0);
        await me.ClickAsync("[data-test=home]");
        var pointsBefore = int.Parse(await me.Locator("[data-test=points-total]").InnerTextAsync());
        await Assertions.Expect(me.Locator("[data-test=start]")).ToBeDisabledAsync();
        await Assertions.Expect(me.Locator("[data-test=start-reason]")).ToHaveTextAsync("今天的答题机会已经用完，明天再来。");

        // My invitation link, copied to send in WeChat.
        await me.ClickAsync("[data-test=invite]");
        var field = me.Locator("[data-test=invite-link]");
        await Assertions.Expect(field).ToHaveValueAsync(new System.Text.RegularExpressions.Regex(@"/\?invite=[A-Za-z0-9]{8}&c=2025-june$"));
        var link = await field.InputValueAsync();
        Assert.StartsWith(site.Address.ToString().TrimEnd('/'), link);
        await me.ClickAsync("[data-test=copy-invite]");
        await Assertions.Expect(me.Locator("[data-test=copied]")).ToBeVisibleAsync();
        Assert.Equal(link, await me.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await QuizSite.ScreensAsync(me, "season-2025-5-invite");

        // A friend on another phone opens it, signs up (the invitation goes with the form) and plays a round.
        await using var theirs = await site.NewContextAsync(phone: true, WeChatHeight);
        var friend = await Phone.OpenLinkAtAsync(theirs, link, now);
        await Assertions.Expect(friend.Locator("[data-test=invited-by]")).ToBeVisibleAsync();
        await Phone.RegisterAsync(site, friend, "小赵", Anhui);
        await Assertions.Expect(friend.Locator("[data-test=notice]")).ToHaveTextAsync("报名成功，好友的邀请已记录");
        Assert.DoesNotContain("invite=", friend.Url);
        await friend.ClickAsync("[data-test=scene-student]");
        await friend.ClickAsync("[data-test=start]");
        await Phone.PlayScoredRoundAsync(friend, 5);

        // Back home I have two more points, one friend counted, and a fourth round today.
        await me.ClickAsync("[data-test=home]");
        await Assertions.Expect(me.Locator("[data-test=points-total]")).ToHaveTextAsync((pointsBefore + 2).ToString());
        await Assertions.Expect(me.Locator("[data-test=invited-friends]")).ToHaveTextAsync("已有 1 位好友通过您的邀请参与");
        await Assertions.Expect(me.Locator("[data-test=points-breakdown]")).ToContainTextAsync("邀请好友 2");
        await me.ClickAsync("[data-test=start]");
        await Assertions.Expect(me.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题");
        await Phone.PlayScoredRoundAsync(me, 5);
        await Assertions.Expect(me.Locator("[data-test=result]")).ToContainTextAsync("今天的机会已用完，明天再来");
    }

    [Fact]
    public async Task AnUnknownInvitationCodeIsSaidPlainlyAndThePersonSignsUpWithoutIt()
    {
        var now = new DateTimeOffset(2025, 6, 16, 12, 0, 0, TimeSpan.FromHours(8));
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenLinkAtAsync(context, $"{site.Address}?invite=NOSUCH99&c=2025-june", now);
        await Assertions.Expect(page.Locator("[data-test=invited-by]")).ToBeVisibleAsync();
        var mobile = QuizSite.NextMobile();
        await Phone.FillRegistrationAsync(page, "陈奶奶", mobile, Anhui);
        await page.ClickAsync("[data-test=register]");
        await Assertions.Expect(page.Locator("[data-test=register-error]")).ToHaveTextAsync(
            "这个邀请链接无效（可能没有复制完整）。您仍然可以报名，只是不记录邀请。");
        await Assertions.Expect(page.Locator("[data-test=code-step]")).ToHaveCountAsync(0);
        await AssertOnScreenAsync(page, page.Locator("[data-test=register-error]"));
        await AssertOnScreenAsync(page, page.Locator("[data-test=register-without-invite]"));
        await QuizSite.ScreensAsync(page, "season-2025-6-unknown-invitation");

        await page.ClickAsync("[data-test=register-without-invite]");
        await Phone.EnterCodeAsync(site, page, mobile);
        await page.Locator("[data-test=start]").WaitForAsync();
        await Assertions.Expect(page.Locator("[data-test=notice]")).ToHaveCountAsync(0);
        Assert.DoesNotContain("invite=", page.Url);
    }

    [Fact]
    public async Task TheDailyLearningTaskAddsTenPointsOnceADay()
    {
        var now = new DateTimeOffset(2025, 6, 15, 10, 20, 0, TimeSpan.FromHours(8)); // day 5 of the stage: its 5th item
        using var season = site.Clock.TravelTo(now);
        await using var context = await site.NewContextAsync(phone: true, WeChatHeight);
        var page = await Phone.OpenAtAsync(context, "2025-june", now);
        await Phone.RegisterAsync(site, page, "林大爷", Anhui);

        var learning = page.Locator("[data-test=learning]");
        await Assertions.Expect(learning.Locator("[data-test=learning-title]")).ToHaveTextAsync("看清这些风险信号");
        var before = int.Parse(await page.Locator("[data-test=points-total]").InnerTextAsync());
        var button = learning.Locator("[data-test=learned]");
        await Assertions.Expect(button).ToHaveTextAsync("我已学习（+10 积分）");
        var box = (await button.BoundingBoxAsync())!;
        Assert.True(box.Height >= 48 && box.Width >= 280, $"the button is {box.Width}×{box.Height}px");
        await button.ClickAsync();
        await Assertions.Expect(learning.Locator("[data-test=learning-added]")).ToHaveTextAsync("+10 积分！今天的学习任务已完成");
        await Assertions.Expect(page.Locator("[data-test=points-total]")).ToHaveTextAsync((before + 10).ToString());
        await Assertions.Expect(button).ToHaveCountAsync(0);
        await QuizSite.ScreensAsync(page, "season-2025-7-learning");

        // Later the same day: done, no button, and the points counted once.
        await page.ReloadAsync();
        await Assertions.Expect(learning.Locator("[data-test=learning-done]")).ToHaveTextAsync("✔ 今天的学习任务已完成，明天再来学新内容");
        await Assertions.Expect(button).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=points-total]")).ToHaveTextAsync((before + 10).ToString());
        await Assertions.Expect(page.Locator("[data-test=points-breakdown]")).ToContainTextAsync("每日学习 10");
    }

    private async Task SaveCampaignAsync(string json)
    {
        var (campaign, errors) = Quiz.Server.Campaigns.CampaignCatalog.Parse(json);
        Assert.True(campaign is not null, string.Join("; ", errors));
        await site.Services.GetRequiredService<Quiz.Server.Campaigns.CampaignCatalog>().SaveAsync(campaign);
    }

    /// <summary>
    /// Each choice is a large touch target, side by side in pairs within the width; at the usual size
    /// the four fit on the first screen (in elderly mode the page scrolls, the start button stays in view).
    /// </summary>
    private static async Task AssertLargeChoicesAsync(IPage page, ILocator buttons, bool onFirstScreen)
    {
        Assert.Equal(4, await buttons.CountAsync());
        for (var i = 0; i < 4; i++)
        {
            var box = (await buttons.Nth(i).BoundingBoxAsync())!;
            Assert.True(box.Height >= 56 && box.Width >= 120, $"choice {i} is {box.Width}×{box.Height}px");
            Assert.True(box.X >= 0 && box.X + box.Width <= 360, $"choice {i} runs off the side ({box.X}+{box.Width})");
        }
        if (!onFirstScreen) return;
        await AssertOnScreenAsync(page, buttons.Nth(3));
        Assert.Equal(0, await page.EvaluateAsync<double>("() => window.scrollY")); // seen without scrolling
    }

    /// <summary>In view on a 360×560 phone, without the player scrolling to it (and not under the header).</summary>
    private static async Task AssertOnScreenAsync(IPage page, ILocator locator)
    {
        var box = await locator.EvaluateAsync<double[]>("e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; }");
        var header = await page.Locator("header.bar").EvaluateAsync<double>("e => e.getBoundingClientRect().bottom");
        // Boxes have fractional edges while scrolling stops on whole pixels: under a pixel past the edge is still in view
        // (the 2025 form, shorter without the track choice, ends its scroll 1/64 px short of the button's foot).
        Assert.True(box[0] >= header - 1 && box[1] < WeChatHeight + 1, $"it is at {box[0]}–{box[1]}px of a {WeChatHeight}px screen whose header ends at {header}px");
    }
}
