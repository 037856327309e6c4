using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

[Collection(SiteCollection.Name)]
public sealed class AdminConsoleTests(QuizSite site)
{
    private const string Header = "id,type,stem,option_a,option_b,option_c,option_d,answer,explanation,source,tracks,category,difficulty,tags";

    [Fact]
    public async Task AnImportWithBadRowsShowsEveryBadRowAndImportsNothing()
    {
        var csv = string.Join("\n",
            Header,
            "WEB-001,single,下列哪项是非法集资的特征？,承诺高额回报,银行定期存款,国债,社保,A,承诺高额回报是非法集资的典型特征。,《防范和处置非法集资条例》第二条,general,features,1,",
            "WEB-002,single,缺少答案的题目,甲,乙,丙,丁,,没有答案。,来源,general,features,1,",
            "WEB-003,essay,题型不对的题目,甲,乙,丙,丁,A,解析。,来源,general,features,1,",
            "WEB-004,single,难度不对的题目,甲,乙,丙,丁,B,解析。,来源,general,features,9,");

        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync("/admin");
        await page.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.ClickAsync("[data-test=login]");
        await Assertions.Expect(page.Locator("[data-test=import-run]")).ToBeVisibleAsync();
        await Axe.AssertAccessibleAsync(page, "admin: import");

        await page.Locator("[data-test=import-files]").SetInputFilesAsync(new FilePayload
        {
            Name = "bad-set.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv),
        });
        await page.ClickAsync("[data-test=import-run]");

        var errors = page.Locator("[data-test=import-error]");
        await Assertions.Expect(page.Locator("[data-test=import-summary]")).ToBeVisibleAsync();
        var rows = await errors.AllInnerTextsAsync();
        Assert.True(rows.Count >= 3, string.Join("\n", rows));
        foreach (var row in new[] { "3", "4", "5" }) // the file's lines of WEB-002..004 (the header is line 1)
            Assert.Contains(rows, r => r.Split('\t').Skip(1).First().Trim() == row);
        Assert.All(rows, r => Assert.StartsWith("bad-set.csv", r));
        Assert.DoesNotContain(rows, r => r.Split('\t')[1].Trim() == "2"); // the good row has no error
        // The reasons in the page's language (the server writes English).
        Assert.Contains(rows, r => r.Split('\t')[1].Trim() == "4" && r.Contains("“essay”不是题型"));
        Assert.Contains(rows, r => r.Split('\t')[1].Trim() == "5" && r.Contains("“9”不是难度"));
        Assert.Contains(rows, r => r.Split('\t')[1].Trim() == "3" && r.Contains("“answer”必填"));
        await Axe.AssertAccessibleAsync(page, "admin: import errors");
        await QuizSite.ScreenshotAsync(page, "admin-1-import-errors");

        // Nothing was imported: the good question of the set is not in the bank.
        await page.ClickAsync("[data-test=tab-questions]");
        await page.FillAsync("[data-test=question-search]", "WEB-001");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("共 0 题");
        await page.FillAsync("[data-test=question-search]", "");
        await Assertions.Expect(page.Locator("main table tbody tr").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("main table tbody tr").First).ToContainTextAsync(new Regex("单选|多选|判断")); // types by name, not code
        await Axe.AssertAccessibleAsync(page, "admin: questions");
        await QuizSite.ScreenshotAsync(page, "admin-2-questions");
    }

    [Fact]
    public async Task TheCampaignFormEditsARuleSavesItAndSaysWhatIsWrongInChinese()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.SetViewportSizeAsync(1366, 768);
        await page.GotoAsync("/admin#campaigns");
        await page.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.ClickAsync("[data-test=login]");

        // A new campaign in the past, so that no page picks it as today's.
        await page.ClickAsync("[data-test=campaign-new]");
        await page.FillAsync("[data-test=f-id]", "web-form");
        await page.FillAsync("[data-test=f-s0-startDay]", "2020-03-01");
        await page.FillAsync("[data-test=f-s0-endDay]", "2020-03-07");
        await page.FillAsync("[data-test=f-s0-attemptsPerDay]", "4");
        await page.SelectOptionAsync("[data-test=f-s0-aggregation]", "sum");
        await Assertions.Expect(page.Locator("[data-test=f-s0-aggregation] option:checked")).ToHaveTextAsync("所有轮次得分累加");
        await Axe.AssertAccessibleAsync(page, "admin: campaign form");
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveTextAsync("已保存");
        using (var client = site.CreateClient())
        {
            var saved = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/campaigns/web-form");
            var stage = saved.GetProperty("stages")[0];
            Assert.Equal(4, stage.GetProperty("attemptsPerDay").GetInt32());
            Assert.Equal("2020-03-07", stage.GetProperty("endDay").GetString());
        }

        // An invalid value: the field says why, in Chinese, tied to it; nothing is sent.
        await page.FillAsync("[data-test=f-s0-questionsPerRound]", "0");
        await page.ClickAsync("[data-test=campaign-save]");
        var error = page.Locator("#err-s0-questionsPerRound");
        await Assertions.Expect(error).ToHaveTextAsync("请填写 1 到 50 之间的整数");
        await Assertions.Expect(page.Locator("[data-test=f-s0-questionsPerRound]")).ToHaveAttributeAsync("aria-describedby", "err-s0-questionsPerRound");
        await Assertions.Expect(page.Locator("[data-test=campaign-error]")).ToHaveTextAsync("请先改正标红的项目");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveCountAsync(0);
        await Axe.AssertAccessibleAsync(page, "admin: campaign form with an error");
        await QuizSite.ScreenshotAsync(page, "admin-3-campaign-form-error-1366x768");

        // The expert view keeps working, and the server's own errors come back in Chinese too.
        await page.FillAsync("[data-test=f-s0-questionsPerRound]", "5");
        await page.ClickAsync("[data-test=campaign-json-view]");
        var json = await page.InputValueAsync("[data-test=campaign-json]");
        await page.FillAsync("[data-test=campaign-json]", json.Replace("\"attemptsPerDay\": 4", "\"attemptsPerDay\": 500"));
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("[data-test=campaign-error]")).ToContainTextAsync("阶段“main”的每天次数：须在 1 到 100 之间");
        await Axe.AssertAccessibleAsync(page, "admin: campaign JSON with a server error");

        await page.SetViewportSizeAsync(360, 640);
        await page.ClickAsync("[data-test=campaign-form-view]");
        await Assertions.Expect(page.Locator("[data-test=f-s0-attemptsPerDay]")).ToHaveValueAsync("500");
        await QuizSite.ScreenshotAsync(page, "admin-4-campaign-form-360x640");
    }

    [Fact]
    public async Task AUnitStaffAccountsUnitIsPickedFromTheHierarchy()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync("/admin#accounts");
        await page.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.ClickAsync("[data-test=login]");

        await page.FillAsync("[data-test=account-name]", "picked-staff");
        await page.FillAsync("[data-test=account-password]", QuizSite.Password);
        await page.SelectOptionAsync("[data-test=pick-0]", new SelectOptionValue { Label = "安徽省" });
        await page.SelectOptionAsync("[data-test=pick-1]", new SelectOptionValue { Label = "芜湖市" });
        await page.SelectOptionAsync("[data-test=pick-2]", new SelectOptionValue { Label = "镜湖区" });
        await Assertions.Expect(page.Locator("[data-test=picked-unit]")).ToHaveTextAsync("已选：镜湖区（340202）");
        await Axe.AssertAccessibleAsync(page, "admin: new account with a picked unit");
        await page.ClickAsync("[data-test=account-create]");
        await Assertions.Expect(page.Locator("[data-test=account-created]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("main table tr", new() { HasText = "picked-staff" })).ToContainTextAsync("340202"); // the list names no units yet
        await QuizSite.ScreenshotAsync(page, "admin-5-account-unit-picker");
    }
}
