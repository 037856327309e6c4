using Dapper;
using Microsoft.Playwright;
using Quiz.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Quiz.Cluster.Tests;

/// <summary>
/// The phone page in a real headless Chromium, through nginx, plays a round while the node serving
/// it is SIGKILLed, and finishes it on another node: the page reconnects by itself, takes the
/// round back (it is in Redis) and carries on from the question it was on.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PhonePageTests(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task APhonePagePlaysARoundWhileItsNodeIsKilledAndFinishesItOnAnother()
    {
        await cluster.AllNodesUpAsync();
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = cluster.Balancer.ToString(), ViewportSize = new ViewportSize { Width = 360, Height = 640 }, IsMobile = true, HasTouch = true,
            Locale = "zh-CN",
        });
        // Every WebSocket the page opens is recorded, to see it open a new one when its node dies.
        await context.AddInitScriptAsync("""
            (() => {
              const Native = window.WebSocket;
              window.__sockets = [];
              window.WebSocket = class extends Native { constructor(...args) { super(...args); window.__sockets.push(this); } };
            })();
            """);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync($"/?c={ClusterFixture.Campaign}");

        // Registers as a person does: the region picked level by level, the code from the server's log.
        var mobile = cluster.NextMobile();
        await page.FillAsync("[data-test=nickname]", "老张");
        await page.FillAsync("[data-test=mobile]", mobile);
        var path = RegionPath(cluster.Counties[2]);
        for (var depth = 0; depth < path.Count; depth++) await page.Locator($"[data-test=region-{depth}]").SelectOptionAsync(path[depth]);
        await page.ClickAsync("[data-test=register]");
        await Assertions.Expect(page.Locator("[data-test=code-sent]")).ToContainTextAsync($"{mobile[..3]}****{mobile[^4..]}");
        await page.FillAsync("[data-test=code]", await CodeSentToAsync(mobile));
        await page.ClickAsync("[data-test=verify]");

        // Two questions answered. The round starts once the page's hub is connected: behind nginx
        // its first start may meet a node being let back in (the previous test's outage) and be
        // tried again after 1, 2 and 3 s, as docs/protocol.md says; the expectation's own 5 s
        // default was shorter than that (CI: the start screen still showing at 5 s).
        await page.ClickAsync("[data-test=start]");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 1 / 5 题", new() { Timeout = 15_000 });
        await AnswerAsync(page);
        await page.ClickAsync("[data-test=next]");
        await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 2 / 5 题");
        await AnswerAsync(page);

        // The node that serves the page dies.
        string roundId, node;
        await using (var store = cluster.OpenStore())
            (roundId, node) = await store.QuerySingleAsync<(string, string)>(
                "SELECT r.id, r.node FROM rounds r JOIN participants p ON p.id = r.participant_id WHERE p.mobile_masked = @masked ORDER BY r.started_at DESC LIMIT 1",
                new { masked = $"{mobile[..3]}****{mobile[^4..]}" });
        var served = int.Parse(node["quiz".Length..]);
        var socketsBefore = await page.EvaluateAsync<int>("() => window.__sockets.length");
        await cluster.KillNodeAsync(served);
        try
        {
            // The page notices, reconnects through nginx to a live node (a new WebSocket: the banners
            // may come and go faster than a check), and goes on with the same round.
            var sockets = 0;
            for (var waited = 0; waited < 300 && (sockets = await page.EvaluateAsync<int>("() => window.__sockets.length")) <= socketsBefore; waited++) await Task.Delay(100);
            Assert.True(sockets > socketsBefore, "the page opened no new connection after its node died");
            await Assertions.Expect(page.Locator("[data-test=reconnecting]")).ToBeHiddenAsync(new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync("第 2 / 5 题");
            await Assertions.Expect(page.Locator("[data-test=feedback]")).ToBeVisibleAsync();
            for (var n = 3; n <= 5; n++)
            {
                await page.ClickAsync("[data-test=next]");
                await Assertions.Expect(page.Locator("[data-test=progress]")).ToHaveTextAsync($"第 {n} / 5 题");
                await AnswerAsync(page);
            }
            await page.ClickAsync("[data-test=finish]");
            await Assertions.Expect(page.Locator("[data-test=result]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-test=national-rank]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^第 \d+ 名 / 共 \d+ 人$"));

            // Stored once, on another node, with all five answers (two given to the node that died).
            await using var store = cluster.OpenStore();
            var (results, answers) = await store.QuerySingleAsync<(long, long)>("""
                SELECT (SELECT COUNT(*) FROM results WHERE round_id = @roundId),
                       (SELECT COUNT(*) FROM answers a JOIN results r ON r.id = a.result_id WHERE r.round_id = @roundId AND a.chosen <> '')
                """, new { roundId });
            Assert.Equal((1L, 5L), (results, answers));
            var score = await store.ExecuteScalarAsync<int>("SELECT score FROM results WHERE round_id = @roundId", new { roundId });
            await Assertions.Expect(page.Locator("[data-test=score]")).ToContainTextAsync(score.ToString());
        }
        catch
        {
            // What the nodes said meanwhile (a rank pending says why in the log of the node that finished).
            for (var i = 1; i <= ClusterFixture.Nodes; i++) output.WriteLine($"--- quiz{i}:\n{cluster.NodeLogTail($"quiz{i}", 40)}");
            throw;
        }
        finally
        {
            await cluster.StartNodeAsync(served);
        }
    }

    /// <summary>Chooses the first option and submits; waits for the server's verdict on screen (the demo stage shows answers).</summary>
    private static async Task AnswerAsync(IPage page)
    {
        await page.ClickAsync("[data-test=option-0]");
        await page.ClickAsync("[data-test=submit]");
        await page.Locator("[data-test=feedback]").WaitForAsync();
    }

    /// <summary>A county's codes from its province down, as the page's picker offers them.</summary>
    private List<string> RegionPath(string county)
    {
        var parents = File.ReadLines(Path.Combine(ClusterFixture.RepositoryRoot(), "question-bank", "units", "regions.csv")).Skip(1)
            .Select(l => l.Split(',')).Where(f => f.Length >= 4).ToDictionary(f => f[0], f => f[2]);
        var path = new List<string> { county };
        while (parents.GetValueOrDefault(path[0]) is { Length: > 0 } parent) path.Insert(0, parent);
        return path;
    }

    private async Task<string> CodeSentToAsync(string mobile)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (cluster.Logs.Codes.LatestTo(mobile) is { } sent) return sent.Code;
            if (DateTime.UtcNow > until) throw new TimeoutException($"no code was sent to {mobile}");
            await Task.Delay(100);
        }
    }
}
