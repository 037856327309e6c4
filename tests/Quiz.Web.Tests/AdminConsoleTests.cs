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
        var page = await SignInAsync(context, "import");
        await Assertions.Expect(page.Locator("[data-test=import-run]")).ToBeVisibleAsync();
        await QuizSite.ScreensAsync(page, "admin-import");

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
        await QuizSite.ScreensAsync(page, "admin-import-errors");

        // Nothing was imported: the good question of the set is not in the bank.
        await page.ClickAsync("[data-test=tab-questions]");
        await page.FillAsync("[data-test=question-search]", "WEB-001");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("共 0 题");
        await page.FillAsync("[data-test=question-search]", "");
        await Assertions.Expect(page.Locator("main table tbody tr").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("main table tbody tr").First).ToContainTextAsync(new Regex("单选|多选|判断")); // types by name, not code
        await QuizSite.ScreensAsync(page, "admin-questions");
    }

    [Fact]
    public async Task TheCampaignFormEditsARuleSavesItAndSaysWhatIsWrongInChinese()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await SignInAsync(context, "campaigns");

        // A new campaign in the past, so that no page picks it as today's.
        await page.ClickAsync("[data-test=campaign-new]");
        await page.FillAsync("[data-test=f-id]", "web-form");
        await page.FillAsync("[data-test=f-s0-startDay]", "2020-03-01");
        await page.FillAsync("[data-test=f-s0-endDay]", "2020-03-07");
        await page.FillAsync("[data-test=f-s0-attemptsPerDay]", "4");
        await page.SelectOptionAsync("[data-test=f-s0-aggregation]", "sum");
        await Assertions.Expect(page.Locator("[data-test=f-s0-aggregation] option:checked")).ToHaveTextAsync("所有轮次得分累加");
        await QuizSite.ScreensAsync(page, "admin-campaign-form");
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
        await QuizSite.ScreensAsync(page, "admin-campaign-form-error");

        // The expert view keeps working, and the server's own errors come back in Chinese too.
        await page.FillAsync("[data-test=f-s0-questionsPerRound]", "5");
        await page.ClickAsync("[data-test=campaign-json-view]");
        var json = await page.InputValueAsync("[data-test=campaign-json]");
        await page.FillAsync("[data-test=campaign-json]", json.Replace("\"attemptsPerDay\": 4", "\"attemptsPerDay\": 500"));
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("[data-test=campaign-error]")).ToContainTextAsync("阶段“main”的每天次数：须在 1 到 100 之间");
        await QuizSite.ScreensAsync(page, "admin-campaign-json-server-error");

        await page.ClickAsync("[data-test=campaign-form-view]");
        await Assertions.Expect(page.Locator("[data-test=f-s0-attemptsPerDay]")).ToHaveValueAsync("500");
    }

    [Fact]
    public async Task TheCampaignFormEditsTheSurveyAndTheServerVersionsIt()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await SignInAsync(context, "campaigns");
        await page.ClickAsync("[data-test=campaign-new]");
        await page.FillAsync("[data-test=f-id]", "web-survey");
        await page.FillAsync("[data-test=f-s0-startDay]", "2019-06-01");
        await page.FillAsync("[data-test=f-s0-endDay]", "2019-06-05");

        // The survey starts from the sample's shape: a multiple choice of topics and a short text.
        await page.CheckAsync("[data-test=survey-on]");
        await Assertions.Expect(page.Locator("[data-test=f-sv-q0-o0-text]")).ToHaveValueAsync("非法集资");
        await page.ClickAsync("[data-test=add-survey-option-0]");
        await page.FillAsync("[data-test=f-sv-q0-o2-text]", "非法集资"); // the same words as the first option
        await page.FillAsync("[data-test=f-sv-q0-o2-id]", "online-lending");
        await page.FillAsync("[data-test=f-sv-q0-o2-category]", "Online Lending");
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("#err-sv-q0-o2-text")).ToHaveTextAsync("与另一个选项的文字相同");
        await Assertions.Expect(page.Locator("#err-sv-q0-o2-category")).ToContainTextAsync("小写字母");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveCountAsync(0);
        await QuizSite.ScreensAsync(page, "admin-campaign-survey-error");

        await page.FillAsync("[data-test=f-sv-q0-o2-text]", "网络贷款诈骗");
        await page.FillAsync("[data-test=f-sv-q0-o2-category]", "online-lending");
        await page.ClickAsync("[data-test=add-survey-question]");
        await page.FillAsync("[data-test=f-sv-q2-text]", "您喜欢哪种学习方式？");
        await page.FillAsync("[data-test=f-sv-q2-o0-text]", "视频");
        await page.FillAsync("[data-test=f-sv-q2-o1-text]", "戏曲和地方戏");
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveTextAsync("已保存");

        var survey = (await StoredCampaignAsync("web-survey")).GetProperty("survey");
        Assert.Equal(1, survey.GetProperty("version").GetInt32());
        Assert.Equal(["topics", "wishes", "q3"], survey.GetProperty("questions").EnumerateArray().Select(q => q.GetProperty("id").GetString()));
        var added = survey.GetProperty("questions")[0].GetProperty("options")[2];
        Assert.Equal(("网络贷款诈骗", "online-lending"), (added.GetProperty("text").GetString(), added.GetProperty("category").GetString()));
        Assert.Equal(0, survey.GetProperty("questions")[1].GetProperty("options").GetArrayLength()); // a text question has none

        // The JSON view shows the version; a changed question, saved from it, makes the next one.
        await page.ClickAsync("[data-test=campaign-json-view]");
        var json = await page.InputValueAsync("[data-test=campaign-json]");
        Assert.Contains("\"version\": 1", json);
        await page.FillAsync("[data-test=campaign-json]", json.Replace("您喜欢哪种学习方式？", "您最喜欢哪种学习方式？"));
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveTextAsync("已保存");
        Assert.Equal(2, (await StoredCampaignAsync("web-survey")).GetProperty("survey").GetProperty("version").GetInt32());
        await page.ClickAsync("[data-test=campaign-form-view]");
        await Assertions.Expect(page.Locator("[data-test=f-sv-q2-text]")).ToHaveValueAsync("您最喜欢哪种学习方式？");
        await QuizSite.ScreensAsync(page, "admin-campaign-survey");
    }

    [Fact]
    public async Task AUnitStaffAccountsUnitIsPickedFromTheHierarchy()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await SignInAsync(context, "accounts");

        await page.FillAsync("[data-test=account-name]", "picked-staff");
        await page.FillAsync("[data-test=account-password]", QuizSite.Password);
        await page.SelectOptionAsync("[data-test=pick-0]", new SelectOptionValue { Label = "安徽省" });
        await page.SelectOptionAsync("[data-test=pick-1]", new SelectOptionValue { Label = "芜湖市" });
        await page.SelectOptionAsync("[data-test=pick-2]", new SelectOptionValue { Label = "镜湖区" });
        await Assertions.Expect(page.Locator("[data-test=picked-unit]")).ToHaveTextAsync("已选：镜湖区（340202）");
        await QuizSite.ScreensAsync(page, "admin-account-unit-picked");
        await page.ClickAsync("[data-test=account-create]");
        await Assertions.Expect(page.Locator("[data-test=account-created]")).ToBeVisibleAsync();
        // The list names the unit, with its place in the hierarchy and its code.
        await Assertions.Expect(page.Locator("[data-test=account-picked-staff] [data-test=account-unit]")).ToHaveTextAsync("安徽省 芜湖市 镜湖区（340202）");
    }

    [Fact]
    public async Task TheCampaignFormSetsEveryFieldKeepsThemAfterAReloadAndRemovesAStage()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await SignInAsync(context, "campaigns");

        // A new campaign in the past, so that no page picks it as today's; every field the form has.
        await page.ClickAsync("[data-test=campaign-new]");
        await page.FillAsync("[data-test=f-id]", "web-every-field");
        await page.FillAsync("[data-test=f-name]", "全字段活动");
        await page.FillAsync("[data-test=f-organiser]", "示范省处置非法集资工作领导小组办公室");
        await page.FillAsync("[data-test=f-description]", "说明文字");
        await page.SelectOptionAsync("[data-test=f-headcountBase]", "target");
        await page.SelectOptionAsync("[data-test=f-regionLevel]", "province");
        await page.SelectOptionAsync("[data-test=f-registrationTrack]", "none");
        await page.FillAsync("[data-test=f-s0-name]", "初赛");
        await page.FillAsync("[data-test=f-s0-startDay]", "2019-05-01");
        await page.FillAsync("[data-test=f-s0-endDay]", "2019-05-10");
        await page.FillAsync("[data-test=f-s0-opensAt]", "10:00");
        await page.FillAsync("[data-test=f-s0-closesAt]", "20:30");
        await page.FillAsync("[data-test=f-s0-questionSeconds]", "20");
        await page.FillAsync("[data-test=f-s0-minAnswerMs]", "500");
        await page.UncheckAsync("[data-test=f-s0-spreadCategories]");
        await page.UncheckAsync("[data-test=f-s0-showAnswers]");
        await page.FillAsync("[data-test=f-s0-points-single]", "2");
        await page.FillAsync("[data-test=f-s0-points-multiple]", "3");
        await page.SelectOptionAsync("[data-test=f-s0-multipleScoring]", "partial");
        await page.SelectOptionAsync("[data-test=f-s0-aggregation]", "best-per-scene-summed");
        await page.FillAsync("[data-test=f-s0-perfectRoundScore]", "10");
        await page.UncheckAsync("[data-test=f-s0-personalRanking]");
        // The tie-break rule is shown in words (the one rule the ranking engines have).
        await Assertions.Expect(page.Locator("[data-test=f-s0-tieBreak] option:checked")).ToHaveTextAsync("用时短者在前，再按交卷先后");
        await page.SelectOptionAsync("[data-test=f-s0-tieBreak]", "duration-then-finish");
        // A pool: the first free track is offered with its default pool, then given to another track by name.
        await page.ClickAsync("[data-test=add-pool-0]");
        await Assertions.Expect(page.Locator("[data-test=f-s0-pool-elderly-elderly]")).ToBeCheckedAsync();
        await page.SelectOptionAsync("[data-test=f-s0-pool-elderly-track]", new SelectOptionValue { Label = "学生" });
        await page.CheckAsync("[data-test=f-s0-pool-student-countryside]");
        await page.ClickAsync("[data-test=add-scene-0]");
        await page.FillAsync("[data-test=f-s0-scene0-name]", "校园");
        await page.FillAsync("[data-test=f-s0-scene0-id]", "campus");
        await page.CheckAsync("[data-test=f-s0-scene0-pool-student]");
        await page.UncheckAsync("[data-test=f-s0-oneScenePerDay]");
        await page.CheckAsync("[data-test=f-s0-ladder]");
        await page.FillAsync("[data-test=f-s0-bonus-profile]", "1");
        await page.FillAsync("[data-test=f-s0-bonus-invitation]", "2");
        await page.FillAsync("[data-test=f-s0-bonus-learningTask]", "10");
        await page.FillAsync("[data-test=f-s0-invitationAttempts]", "1");
        await page.ClickAsync("[data-test=add-learning-0]");
        await page.FillAsync("[data-test=f-s0-learning0-title]", "什么是非法集资");
        await page.FillAsync("[data-test=f-s0-learning0-text]", "未经许可向不特定对象吸收资金。");
        await page.ClickAsync("[data-test=add-prize-0]");
        await page.FillAsync("[data-test=f-s0-prize0-name]", "纪念品");
        await page.FillAsync("[data-test=f-s0-prize0-id]", "souvenir");
        await page.FillAsync("[data-test=f-s0-prize0-minScore]", "20");
        await page.FillAsync("[data-test=f-s0-prize0-minPoints]", "5");
        // A second stage starts as a copy of the first.
        await page.ClickAsync("[data-test=stage-add]");
        await page.FillAsync("[data-test=f-s1-name]", "决赛");
        await page.FillAsync("[data-test=f-s1-id]", "final");
        await page.FillAsync("[data-test=f-s1-startDay]", "2019-05-11");
        await page.FillAsync("[data-test=f-s1-endDay]", "2019-05-12");

        // A wrong time of day is named at its field, in Chinese, and nothing is sent.
        await page.FillAsync("[data-test=f-s0-closesAt]", "25:00");
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("#err-s0-closesAt")).ToHaveTextAsync("请填写时间，如 10:00（24:00 表示当天结束）");
        await Assertions.Expect(page.Locator("[data-test=f-s0-closesAt]")).ToHaveAttributeAsync("aria-describedby", "err-s0-closesAt");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveCountAsync(0);
        await QuizSite.ScreensAsync(page, "admin-campaign-every-field-error");
        await page.FillAsync("[data-test=f-s0-closesAt]", "20:30");
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveTextAsync("已保存");

        // The server stored every field.
        var stored = await StoredCampaignAsync("web-every-field");
        Assert.Equal("示范省处置非法集资工作领导小组办公室", stored.GetProperty("organiser").GetString());
        Assert.Equal("target", stored.GetProperty("headcountBase").GetString());
        Assert.Equal("province", stored.GetProperty("registration").GetProperty("regionLevel").GetString());
        Assert.Equal("none", stored.GetProperty("registration").GetProperty("track").GetString());
        Assert.Equal(2, stored.GetProperty("stages").GetArrayLength());
        var first = stored.GetProperty("stages")[0];
        Assert.Equal("10:00", first.GetProperty("opensAt").GetString());
        Assert.Equal("20:30", first.GetProperty("closesAt").GetString());
        Assert.Equal(20, first.GetProperty("questionSeconds").GetInt32());
        Assert.Equal(500, first.GetProperty("minAnswerMs").GetInt32());
        Assert.False(first.GetProperty("spreadCategories").GetBoolean());
        Assert.False(first.GetProperty("showAnswers").GetBoolean());
        Assert.Equal(2, first.GetProperty("points").GetProperty("single").GetInt32());
        Assert.Equal(3, first.GetProperty("points").GetProperty("multiple").GetInt32());
        Assert.Equal("partial", first.GetProperty("multipleScoring").GetString());
        Assert.Equal("best-per-scene-summed", first.GetProperty("aggregation").GetString());
        Assert.Equal(10, first.GetProperty("perfectRoundScore").GetInt32());
        Assert.False(first.GetProperty("personalRanking").GetBoolean());
        Assert.Equal("duration-then-finish", first.GetProperty("tieBreak").GetString());
        Assert.Equal(new[] { "elderly", "countryside", "general" }, first.GetProperty("pools").GetProperty("student").EnumerateArray().Select(x => x.GetString()!).ToArray());
        var scene = first.GetProperty("scenes")[0];
        Assert.Equal(("campus", "校园"), (scene.GetProperty("id").GetString(), scene.GetProperty("name").GetString()));
        Assert.Equal(new[] { "student", "general" }, scene.GetProperty("pool").EnumerateArray().Select(x => x.GetString()!).ToArray());
        Assert.False(first.GetProperty("oneScenePerDay").GetBoolean());
        Assert.True(first.GetProperty("ladder").GetBoolean());
        Assert.Equal(10, first.GetProperty("bonusPoints").GetProperty("learningTask").GetInt32());
        Assert.Equal(2, first.GetProperty("bonusPoints").GetProperty("invitation").GetInt32());
        Assert.Equal(1, first.GetProperty("invitationAttempts").GetInt32());
        Assert.Equal("什么是非法集资", first.GetProperty("learning")[0].GetProperty("title").GetString());
        Assert.Equal(5, first.GetProperty("prizes")[0].GetProperty("minPoints").GetInt32());
        Assert.Equal("final", stored.GetProperty("stages")[1].GetProperty("id").GetString());

        // After a reload the form shows what was stored.
        await page.ReloadAsync();
        await page.ClickAsync("[data-test=campaign-web-every-field]");
        await Assertions.Expect(page.Locator("[data-test=f-organiser]")).ToHaveValueAsync("示范省处置非法集资工作领导小组办公室");
        await Assertions.Expect(page.Locator("[data-test=f-headcountBase]")).ToHaveValueAsync("target");
        await Assertions.Expect(page.Locator("[data-test=f-regionLevel]")).ToHaveValueAsync("province");
        await Assertions.Expect(page.Locator("[data-test=f-s0-opensAt]")).ToHaveValueAsync("10:00");
        await Assertions.Expect(page.Locator("[data-test=f-s0-closesAt]")).ToHaveValueAsync("20:30");
        await Assertions.Expect(page.Locator("[data-test=f-s0-points-multiple]")).ToHaveValueAsync("3");
        await Assertions.Expect(page.Locator("[data-test=f-s0-multipleScoring]")).ToHaveValueAsync("partial");
        await Assertions.Expect(page.Locator("[data-test=f-s0-pool-student-track]")).ToHaveValueAsync("student");
        await Assertions.Expect(page.Locator("[data-test=f-s0-pool-student-countryside]")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("[data-test=f-s0-scene0-name]")).ToHaveValueAsync("校园");
        await Assertions.Expect(page.Locator("[data-test=f-s0-scene0-pool-student]")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("[data-test=f-s0-ladder]")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("[data-test=f-s0-personalRanking]")).Not.ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("[data-test=f-s0-bonus-learningTask]")).ToHaveValueAsync("10");
        await Assertions.Expect(page.Locator("[data-test=f-s0-learning0-text]")).ToHaveValueAsync("未经许可向不特定对象吸收资金。");
        await Assertions.Expect(page.Locator("[data-test=f-s0-prize0-minScore]")).ToHaveValueAsync("20");
        await Assertions.Expect(page.Locator("[data-test=f-s1-name]")).ToHaveValueAsync("决赛");
        await QuizSite.ScreensAsync(page, "admin-campaign-every-field");

        // The form's edits show in the JSON view, and the JSON view's in the form.
        await page.FillAsync("[data-test=f-s0-learning0-title]", "非法集资的四个特征");
        await page.ClickAsync("[data-test=campaign-json-view]");
        var json = await page.InputValueAsync("[data-test=campaign-json]");
        Assert.Contains("\"title\": \"非法集资的四个特征\"", json);
        Assert.Contains("\"opensAt\": \"10:00\"", json);
        await QuizSite.ScreensAsync(page, "admin-campaign-json");
        await page.FillAsync("[data-test=campaign-json]", json.Replace("\"name\": \"校园\"", "\"name\": \"校园生活\"").Replace("\"minPoints\": 5", "\"minPoints\": 6"));
        await page.ClickAsync("[data-test=campaign-form-view]");
        await Assertions.Expect(page.Locator("[data-test=f-s0-scene0-name]")).ToHaveValueAsync("校园生活");
        await Assertions.Expect(page.Locator("[data-test=f-s0-prize0-minPoints]")).ToHaveValueAsync("6");

        // A stage removed is gone from the form and, once saved, from the server.
        await page.ClickAsync("[data-test=stage-remove-1]");
        await Assertions.Expect(page.Locator("[data-test=stage-1]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-test=stage-remove-0]")).ToHaveCountAsync(0); // the last stage stays
        await page.ClickAsync("[data-test=campaign-save]");
        await Assertions.Expect(page.Locator("[data-test=campaign-saved]")).ToHaveTextAsync("已保存");
        await QuizSite.ScreensAsync(page, "admin-campaign-stage-removed");
        stored = await StoredCampaignAsync("web-every-field");
        Assert.Equal(new[] { "main" }, stored.GetProperty("stages").EnumerateArray().Select(x => x.GetProperty("id").GetString()!).ToArray());
        Assert.Equal("校园生活", stored.GetProperty("stages")[0].GetProperty("scenes")[0].GetProperty("name").GetString());
        Assert.Equal("非法集资的四个特征", stored.GetProperty("stages")[0].GetProperty("learning")[0].GetProperty("title").GetString());
        Assert.Equal(6, stored.GetProperty("stages")[0].GetProperty("prizes")[0].GetProperty("minPoints").GetInt32());
    }

    [Fact]
    public async Task TheAccountsListNamesEachUnit()
    {
        await site.CreateStaffAsync("listed-county-staff", "unit-staff", "340202");
        await site.CreateStaffAsync("listed-bank-staff", "unit-staff", "ORG-002");
        await using var context = await site.NewContextAsync(phone: false);
        var page = await SignInAsync(context, "accounts");

        await Assertions.Expect(page.Locator("[data-test=account-listed-county-staff] [data-test=account-unit]")).ToHaveTextAsync("安徽省 芜湖市 镜湖区（340202）");
        await Assertions.Expect(page.Locator("[data-test=account-listed-bank-staff] [data-test=account-unit]")).ToHaveTextAsync("江淮示范商业银行芜湖分行（ORG-002）");
        await Assertions.Expect(page.Locator($"[data-test=account-{QuizSite.AdminName}] [data-test=account-unit]")).ToHaveTextAsync("—");
        await QuizSite.ScreensAsync(page, "admin-accounts");
    }

    [Fact]
    public async Task MalformedImportsAreExplainedInChinese()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await SignInAsync(context, "import");

        // Question files: a workbook named .csv, a text file, a header with an unknown column, a formula.
        await page.Locator("[data-test=import-files]").SetInputFilesAsync(new[]
        {
            new FilePayload { Name = "workbook.csv", MimeType = "text/csv", Buffer = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00] },
            new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = Encoding.UTF8.GetBytes("题目") },
            new FilePayload { Name = "extra.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(Header + ",remark\n") },
            new FilePayload
            {
                Name = "formula.csv", MimeType = "text/csv",
                Buffer = Encoding.UTF8.GetBytes(Header + "\nWEB-101,single,=1+1 是多少？,甲,乙,丙,丁,A,解析。,来源,general,features,1,\n"),
            },
        });
        await page.ClickAsync("[data-test=import-validate]");
        await Assertions.Expect(page.Locator("[data-test=import-summary]")).ToBeVisibleAsync();
        var reasons = await Reasons(page);
        Assert.Contains(reasons, r => r.StartsWith("文件名是“.csv”，内容却是 zip 压缩包"));
        Assert.Contains("“.txt”文件不是题库：请用 .json、.csv 或 .xlsx", reasons);
        Assert.Contains(reasons, r => r.StartsWith("未知的列“remark”"));
        Assert.Contains("“stem”以“=”开头，会被表格软件当作公式，请删去这个字符", reasons);
        AssertNoEnglish(reasons);
        await QuizSite.ScreensAsync(page, "admin-import-malformed");

        // Unit files: a bad code, a parent that does not exist, a count that is not one, a short row, an unknown header.
        await page.ClickAsync("[data-test=tab-units]");
        await page.Locator("[data-test=units-files]").SetInputFilesAsync(new[]
        {
            new FilePayload
            {
                Name = "regions.csv", MimeType = "text/csv",
                Buffer = Encoding.UTF8.GetBytes("code,name,parent_code,level,headcount_base\n区划1,某县,340200,county,100\n349901,某区,999999,county,100\n349902,某镇,340200,county,很多\n349903,某乡\n"),
            },
            new FilePayload { Name = "staff.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes("code,name\nX,Y\n") },
        });
        await page.ClickAsync("[data-test=units-import]");
        await Assertions.Expect(page.Locator("[data-test=import-errors]")).ToBeVisibleAsync();
        reasons = await Reasons(page);
        Assert.Contains("“区划1”不是单位代码（字母、数字、“-”“_”，最多 40 个字符）", reasons);
        Assert.Contains("上级“999999”不存在", reasons);
        Assert.Contains("“很多”不是正整数", reasons);
        Assert.Contains("本行有 2 列，表头有 5 列", reasons);
        Assert.Contains(reasons, r => r.StartsWith("无法识别的表头"));
        await Assertions.Expect(page.Locator("[data-test=units-summary]")).ToHaveTextAsync($"发现 {reasons.Count} 处错误，未导入任何地区或单位");
        AssertNoEnglish(reasons);
        await QuizSite.ScreensAsync(page, "admin-units-malformed");

        // In English the page shows the server's own words.
        await page.ClickAsync("header button:has-text('English')");
        await Assertions.Expect(page.Locator("[data-test=import-error]", new() { HasText = "999999" })).ToContainTextAsync("parent '999999' does not exist");
        await page.ClickAsync("header button:has-text('中文')");

        // Nothing of the bad files was imported.
        using var client = site.CreateClient();
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync("/api/units/regions/349901")).StatusCode);

        static async Task<IReadOnlyList<string>> Reasons(IPage page) =>
            (await page.Locator("[data-test=import-error] td:last-child").AllInnerTextsAsync()).Select(r => r.Trim()).ToList();
    }

    [Fact]
    public async Task EveryTabFitsA360PixelScreenWithoutSidewaysScrolling()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await SignInAsync(context, "import");
        var header = await page.Locator("header").BoundingBoxAsync();
        Assert.True(header!.Height <= 56, $"the header is {header.Height} px high");

        (string Tab, string Ready)[] tabs =
        [
            ("import", "[data-test=import-run]"),
            ("questions", "main table tbody tr"),
            ("stats", "main .card"),
            ("campaigns", "[data-test=campaign-demo]"),
            ("units", "[data-test=units-import]"),
            ("flagged", "#flag-campaign"),
            ("rankings", "[data-test=rebuild]"),
            ("accounts", "[data-test=account-form]"),
        ];
        foreach (var (tab, ready) in tabs)
        {
            await page.ClickAsync($"[data-test=tab-{tab}]");
            await Assertions.Expect(page.Locator(ready).First).ToBeVisibleAsync();
            await AssertNoSidewaysScrollAsync(page, tab);
        }
        await page.ClickAsync("[data-test=tab-campaigns]");
        await page.ClickAsync("[data-test=campaign-demo]");
        await Assertions.Expect(page.Locator("[data-test=campaign-form]")).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync(page, "campaign form");
        await page.ClickAsync("[data-test=campaign-json-view]");
        await AssertNoSidewaysScrollAsync(page, "campaign JSON");
    }

    private static async Task AssertNoSidewaysScrollAsync(IPage page, string state)
    {
        var size = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        Assert.True(size[0] <= size[1], $"{state}: the page is {size[0]} px wide on a {size[1]} px screen");
    }

    /// <summary>The campaign as the server serves it after a save.</summary>
    private async Task<System.Text.Json.JsonElement> StoredCampaignAsync(string id)
    {
        using var client = site.CreateClient();
        return await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/campaigns/{id}");
    }

    /// <summary>Chinese only: no English phrase (two words in a row) left in the reasons.</summary>
    private static void AssertNoEnglish(IEnumerable<string> reasons) =>
        Assert.All(reasons, r => Assert.DoesNotMatch(new Regex(@"[A-Za-z]{3,} [A-Za-z]{3,}"), r));

    private async Task<IPage> SignInAsync(IBrowserContext context, string tab)
    {
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync($"/admin#{tab}");
        await page.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.ClickAsync("[data-test=login]");
        await Assertions.Expect(page.Locator($"[data-test=tab-{tab}]")).ToHaveAttributeAsync("aria-selected", "true");
        return page;
    }
}
