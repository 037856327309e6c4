using Microsoft.Playwright;
using Quiz.Server.Accounts;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>
/// The demo campaign's survey (issue 17): offered on the phone after the day's first round,
/// answered once, read aloud in elderly mode; its answer then counted on the dashboard of the
/// person's city, beside the demand chart. 蚌埠市: no other test plays there.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class SurveyTests(QuizSite site)
{
    private const string Bengbu = "340300", Longzihu = "340302", Yuhui = "340304";

    private static async Task PlayRoundAsync(IPage page)
    {
        await page.ClickAsync("[data-test=start]");
        for (var n = 1; n <= 5; n++)
        {
            if (n > 1) await page.ClickAsync("[data-test=next]");
            await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync($"第 {n} / 5 题");
            await Phone.AnswerAsync(page);
        }
        await page.ClickAsync("[data-test=finish]");
        await Assertions.Expect(page.Locator("[data-test=result]")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task APlayerAnswersTheSurveyAfterARoundAndTheCityDashboardCountsIt()
    {
        await using var context = await site.NewContextAsync(phone: true, phoneHeight: 560);
        var page = await Phone.OpenAsync(context);
        await Phone.RegisterAsync(site, page, "老李", "340000", Bengbu, Longzihu);
        await PlayRoundAsync(page);

        var survey = page.Locator("[data-test=survey]");
        await Assertions.Expect(survey).ToBeVisibleAsync();
        await Assertions.Expect(survey.Locator("h3")).ToHaveTextAsync("问卷调查：您想学什么");
        // The hint comes once, from the page, in the reader's language (it was once in the text too: "（可多选）（可多选）").
        await Assertions.Expect(survey.Locator("[data-test=survey-topics] legend")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^您最想了解哪些骗局？\s*（可多选）$"));
        await Assertions.Expect(survey.Locator("[data-test=survey-wishes] legend")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^您还想了解什么？\s*（选填）$"));
        await QuizSite.ScreensAsync(page, "survey-1-offered");

        // Elderly mode: large type, and the survey read aloud on a tap, questions and options.
        await page.ClickAsync("[data-test=elderly]");
        await page.ClickAsync("[data-test=survey-read-aloud]");
        var spoken = await page.EvaluateAsync<string>("() => window.__spoken.map(s => s.text).join('|')");
        Assert.Contains("问卷调查：您想学什么", spoken);
        Assert.Contains("戏曲和地方戏", spoken);
        await QuizSite.ScreensAsync(page, "survey-2-elderly");

        // Sent with nothing chosen: the required questions are named, nothing is stored.
        await page.ClickAsync("[data-test=survey-send]");
        await Assertions.Expect(page.Locator("[data-test=survey-error]")).ToHaveTextAsync("有的题目还需要修改，请看标红的题目");
        await Assertions.Expect(page.Locator("[data-test=survey-topics]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bwrong\b"));
        await Assertions.Expect(page.Locator("[data-test=survey-wishes]")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bwrong\b"));
        await QuizSite.ScreensAsync(page, "survey-3-fix");

        await page.CheckAsync("[data-test=survey-option-topics-pension-fraud]");
        await page.CheckAsync("[data-test=survey-option-topics-illegal-fundraising]");
        await page.CheckAsync("[data-test=survey-option-formats-opera]");
        await page.FillAsync("[data-test=survey-text-wishes]", "想听听保健品讲座的套路");
        await Assertions.Expect(page.Locator("#survey-count-wishes")).ToHaveTextAsync("11/100 字");
        await page.ClickAsync("[data-test=survey-send]");
        await Assertions.Expect(page.Locator("[data-test=survey-thanks]")).ToBeVisibleAsync();
        await QuizSite.ScreensAsync(page, "survey-4-thanks");

        // Answered once: the next round's result offers nothing.
        await page.ClickAsync("[data-test=home]");
        await PlayRoundAsync(page);
        await Assertions.Expect(page.Locator("[data-test=survey-none]")).ToHaveCountAsync(1);
        Assert.Equal(1, await page.EvaluateAsync<int>("""
            async () => (await (await fetch('/api/campaigns/demo/survey', { headers: { Authorization: 'Bearer ' + localStorage.getItem('quiz.token') } })).json()).answered
            """));
        await Assertions.Expect(page.Locator("[data-test=survey]")).ToHaveCountAsync(0);

        // The city's dashboard counts the answer, and sets the topics asked for beside the wrong answers.
        var staff = await site.CreateStaffAsync("bengbu-survey", Roles.UnitStaff, Bengbu);
        await using var desk = await site.NewContextAsync(phone: false);
        var dashboard = await desk.NewPageAsync();
        dashboard.SetDefaultTimeout(10_000);
        await dashboard.GotoAsync($"/dashboard?c={QuizSite.CampaignId}");
        await dashboard.FillAsync("[data-test=login-name]", staff);
        await dashboard.FillAsync("[data-test=login-password]", QuizSite.Password);
        await dashboard.ClickAsync("[data-test=login]");
        var results = dashboard.Locator("[data-test=survey-results]");
        await Assertions.Expect(results.Locator("[data-test=survey-respondents]")).ToHaveTextAsync("1 人作答");
        await Assertions.Expect(results.Locator("[data-test=survey-count-topics-pension-fraud] td").Nth(1)).ToHaveTextAsync("1");
        await Assertions.Expect(results.Locator("[data-test=survey-count-topics-telecom-fraud] td").Nth(1)).ToHaveTextAsync("0");
        await Assertions.Expect(results.Locator("[data-test=survey-count-formats-opera] td").Nth(2)).ToHaveTextAsync("100%");
        await Assertions.Expect(results.Locator($"[data-test=survey-child-{Longzihu}] td").Nth(1)).ToHaveTextAsync("1");
        await Assertions.Expect(results.Locator("[data-test=survey-show-texts]")).ToHaveCountAsync(0); // the free text is for admins
        var demand = dashboard.Locator("[data-test=demand]");
        await Assertions.Expect(demand.Locator("[data-test=demand-chart] canvas")).ToHaveCountAsync(1);
        await Assertions.Expect(demand.Locator("[data-test=demand-pension] td").Nth(1)).ToHaveTextAsync("100%");
        await QuizSite.ScreensAsync(dashboard, "survey-5-dashboard");

        var download = await dashboard.RunAndWaitForDownloadAsync(() => dashboard.ClickAsync("[data-test=survey-export-csv]"));
        var csv = (await File.ReadAllTextAsync((await download.PathAsync())!)).Split("\r\n");
        Assert.StartsWith("单位代码,单位,答卷人数,1. 您最想了解哪些骗局？：非法集资", csv[0]);
        Assert.StartsWith($"{Bengbu},蚌埠市,1,1,", csv[1]);
    }

    [Fact]
    public async Task ASkippedSurveyWaitsForTheNextDay()
    {
        await using var context = await site.NewContextAsync(phone: true, phoneHeight: 560);
        var page = await Phone.OpenAsync(context);
        await Phone.RegisterAsync(site, page, "小王", "340000", Bengbu, Yuhui);
        await PlayRoundAsync(page);
        await page.ClickAsync("[data-test=survey-skip]");
        await Assertions.Expect(page.Locator("[data-test=survey]")).ToHaveCountAsync(0);

        // Still offered by the server (not answered), but not again on today's next result.
        await page.ClickAsync("[data-test=home]");
        await PlayRoundAsync(page);
        await Assertions.Expect(page.Locator("[data-test=survey-none]")).ToHaveCountAsync(1);
        Assert.True(await page.EvaluateAsync<bool>("""
            async () => (await (await fetch('/api/campaigns/demo/survey', { headers: { Authorization: 'Bearer ' + localStorage.getItem('quiz.token') } })).json()).offer
            """));
        await Assertions.Expect(page.Locator("[data-test=survey]")).ToHaveCountAsync(0);
        await QuizSite.ScreensAsync(page, "survey-6-skipped");
    }
}
