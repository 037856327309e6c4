using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Quiz.Server.Play;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>
/// Results a player understands on the phone (issue 14, point 3): the review in the options' own
/// words, "rank X of N", the two local ranks named by their units, today's attempts and best round
/// on the home screen, the start refused in words once the day's attempts are used, the rules in words.
/// The demo campaign: 5 questions a round, 3 attempts a day, the best round counts.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class PhoneResultsTests(QuizSite site)
{
    private static readonly string[] Yaohai = ["340000", "340100", "340102"]; // 安徽省 › 合肥市 › 瑶海区
    private const string Bank = "江淮示范商业银行合肥分行";

    [Fact]
    public async Task TheLastRoundOfTheDayReadsInWordsAndHomeThenSaysNoAttemptIsLeft()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await Phone.OpenAsync(context);
        // The hub's messages as the page sends them, on every socket it opens (it connects as soon as
        // it has a token): the last answer finishes the round, no Finish follows.
        var sent = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.WebSocket += (_, socket) => socket.FrameSent += (_, frame) => { if (frame.Text is { } text) sent.Enqueue(text); };

        // Registered with a work unit, so the result has both local ranks.
        var mobile = QuizSite.NextMobile();
        await Phone.FillRegistrationAsync(page, "老周", mobile, Yaohai);
        await page.FillAsync("[data-test=organisation]", "江淮示范商业银行合肥");
        await page.GetByRole(AriaRole.Button, new() { Name = Bank }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-test=organisation-chosen]")).ToContainTextAsync(Bank);
        await page.ClickAsync("[data-test=register]");
        await Phone.EnterCodeAsync(site, page, mobile);

        // Home, before any round: three attempts today, no score yet, and the rules in words.
        await Assertions.Expect(page.Locator("[data-test=attempts-left]")).ToHaveTextAsync("3 次");
        await Assertions.Expect(page.Locator("[data-test=best-round]")).ToHaveTextAsync("还没有成绩");
        await Assertions.Expect(page.Locator("[data-test=home-rules]")).ToHaveTextAsync("每天 3 次机会 · 取最好一轮成绩");
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeEnabledAsync();
        await QuizSite.ScreensAsync(page, "phone-results-1-home-fresh");

        // Two rounds played elsewhere (another phone of the same person): home counts them.
        var participantId = await page.EvaluateAsync<long>("""
            async () => (await (await fetch('/api/participants/me', { headers: { Authorization: 'Bearer ' + localStorage.getItem('quiz.token') } })).json()).participantId
            """);
        var best = Math.Max(await PlayElsewhereAsync(participantId), await PlayElsewhereAsync(participantId));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("[data-test=attempts-left]")).ToHaveTextAsync("1 次");
        await Assertions.Expect(page.Locator("[data-test=best-round]")).ToHaveTextAsync($"{best} 分");

        // The last attempt, on this phone: the first option each time, whose words the review shows.
        await page.ClickAsync("[data-test=start]");
        var chosen = new List<string>();
        for (var n = 1; n <= 5; n++)
        {
            if (n > 1) await page.ClickAsync("[data-test=next]");
            await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync($"第 {n} / 5 题");
            // The button shows its letter, then the option's words.
            chosen.Add(Regex.Replace((await page.Locator("[data-test=option-0]").InnerTextAsync()).Trim(), @"^A\s*", ""));
            await Phone.AnswerAsync(page);
        }
        // The round's result carries the three places; only my unit's rank among its siblings is
        // read afterwards. A weak network: that read's first try is lost; the page reads it again.
        // No personal board is read for the result page.
        var unitReads = 0;
        var standingReads = 0;
        await page.RouteAsync(new Regex(@"/api/rankings/.+/units/mine$"), async route =>
        {
            if (Interlocked.Increment(ref unitReads) == 1) await route.AbortAsync();
            else await route.ContinueAsync();
        });
        await page.RouteAsync(new Regex(@"/api/rankings/.+/me(\?.*)?$"), async route =>
        {
            Interlocked.Increment(ref standingReads);
            await route.ContinueAsync();
        });
        await page.ClickAsync("[data-test=finish]");
        await Assertions.Expect(page.Locator("[data-test=result]")).ToBeVisibleAsync();
        var answers = sent.Where(m => m.Contains("\"target\":\"Answer\"")).ToList();
        Assert.Equal(5, answers.Count);
        Assert.Equal([false, false, false, false, true], answers.Select(m => m.Contains("\"finish\":true")));
        Assert.DoesNotContain(sent, m => m.Contains("\"target\":\"Finish\""));

        // Ranks: "rank X of N", and each local rank names its unit.
        var rankOf = new Regex(@"^第 \d+ 名 / 共 \d+ 人$");
        await Assertions.Expect(page.Locator("[data-test=national-rank]")).ToHaveTextAsync(rankOf);
        await Assertions.Expect(page.Locator("[data-test=unit-rank]")).ToHaveTextAsync(rankOf);
        await Assertions.Expect(page.Locator("[data-test=organisation-rank]")).ToHaveTextAsync(rankOf);
        await Assertions.Expect(page.Locator("[data-test=unit-rank-label]")).ToContainTextAsync("我在瑶海区的排名");
        await Assertions.Expect(page.Locator("[data-test=organisation-rank-label]")).ToContainTextAsync($"我在{Bank}的排名");
        await Assertions.Expect(page.Locator("[data-test=my-unit-rank-label]")).ToContainTextAsync("瑶海区在合肥市的排名");
        await Assertions.Expect(page.Locator("[data-test=my-unit-rank]")).ToHaveTextAsync(new Regex(@"^第 \d+ 名$"));
        Assert.True(unitReads >= 2, $"{unitReads} reads of my unit");
        Assert.Equal(0, standingReads);
        await page.UnrouteAllAsync();

        // The review in words: each answer I gave is its option's text, never a letter.
        var review = page.Locator("[data-test=review-chosen]");
        await Assertions.Expect(review).ToHaveCountAsync(5);
        for (var i = 0; i < 5; i++) await Assertions.Expect(review.Nth(i)).ToContainTextAsync($"您的答案：{chosen[i]}");
        Assert.All(await page.Locator("[data-test=review-key]").AllInnerTextsAsync(),
            key => Assert.DoesNotMatch(@"^正确答案：[A-H]+$", key.Trim()));
        await Assertions.Expect(page.Locator("[data-test=result]")).ToContainTextAsync("今天的机会已用完，明天再来");
        await Assertions.Expect(page.Locator("[data-test=again]")).ToHaveCountAsync(0);
        await QuizSite.ScreensAsync(page, "phone-results-2-result");

        // The boards' "around me" says the same: each of my ranks with its unit and its board's size.
        await page.ClickAsync("[data-test=boards]");
        await page.ClickAsync("[data-test=tab-around]");
        await Assertions.Expect(page.Locator("[data-test=standing-national] dd")).ToHaveTextAsync(rankOf);
        await Assertions.Expect(page.Locator("[data-test=standing-unit]")).ToContainTextAsync("我在瑶海区的排名");
        await Assertions.Expect(page.Locator("[data-test=standing-unit] dd")).ToHaveTextAsync(rankOf);
        await Assertions.Expect(page.Locator("[data-test=standing-organisation]")).ToContainTextAsync($"我在{Bank}的排名");
        await QuizSite.ScreensAsync(page, "phone-results-2b-around-me");
        await page.GetByRole(AriaRole.Button, new() { Name = "返回", Exact = true }).ClickAsync();

        // Home: none left, the start is off and says why.
        await page.ClickAsync("[data-test=home]");
        await Assertions.Expect(page.Locator("[data-test=attempts-left]")).ToHaveTextAsync("0 次");
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("[data-test=start]")).ToHaveTextAsync("今天的机会已用完");
        await Assertions.Expect(page.Locator("[data-test=start-reason]")).ToHaveTextAsync("今天的答题机会已经用完，明天再来。");
        await Assertions.Expect(page.Locator("[data-test=start]")).ToHaveAttributeAsync("aria-describedby", "start-reason");
        var bestNow = int.Parse(Regex.Match(await page.Locator("[data-test=best-round]").InnerTextAsync(), @"\d+").Value);
        Assert.True(bestNow >= best, $"the best round {bestNow} is at least the earlier best {best}");
        await QuizSite.ScreensAsync(page, "phone-results-3-home-none-left");

        // The rules: how rounds count, in words.
        await page.ClickAsync("[data-test=rules]");
        await Assertions.Expect(page.Locator("[data-test=rules-aggregation]")).ToHaveTextAsync("取最好一轮成绩");
        Assert.DoesNotContain("agg_", await page.InnerTextAsync("body"));
        await QuizSite.ScreensAsync(page, "phone-results-3b-rules");

        // The same in English.
        await page.ClickAsync("[data-test=language]");
        await Assertions.Expect(page.Locator("[data-test=rules-aggregation]")).ToHaveTextAsync("Your best round counts");
        await page.GetByRole(AriaRole.Button, new() { Name = "Back" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-test=home-rules]")).ToHaveTextAsync("3 attempts a day · Your best round counts");
        await Assertions.Expect(page.Locator("[data-test=start-reason]")).ToHaveTextAsync("All of today's attempts are used; come back tomorrow.");
        await QuizSite.ScreensAsync(page, "phone-results-4-home-none-left-english");
        await page.ClickAsync("[data-test=language]");
    }

    /// <summary>A whole round of this person through the server's own services (the first option each time); its score.</summary>
    private async Task<int> PlayElsewhereAsync(long participantId)
    {
        var rounds = site.Services.GetRequiredService<RoundService>();
        var round = await rounds.StartAsync(participantId, new StartRoundRequest(QuizSite.CampaignId));
        for (var i = 0; i < round.Questions.Count; i++) await rounds.AnswerAsync(participantId, new AnswerRequest(round.RoundId, i, [0]));
        return (await rounds.FinishAsync(participantId, new FinishRequest(round.RoundId))).Score;
    }
}
