using System.Text;
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
        await QuizSite.ScreenshotAsync(page, "admin-1-import-errors");

        // Nothing was imported: the good question of the set is not in the bank.
        await page.ClickAsync("[data-test=tab-questions]");
        await page.FillAsync("[data-test=question-search]", "WEB-001");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("共 0 题");
        await page.FillAsync("[data-test=question-search]", "");
        await Assertions.Expect(page.Locator("main table tbody tr").First).ToBeVisibleAsync();
        await QuizSite.ScreenshotAsync(page, "admin-2-questions");
    }
}
