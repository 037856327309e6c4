using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Ranking.Tests;
using Quiz.Server.Accounts;
using Quiz.Server.Campaigns;
using Quiz.Server.Dashboard;
using Quiz.Server.Play;
using Quiz.Server.Security;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.ScaleOut;

/// <summary>
/// Two nodes of one deployment agree (issue 13): two servers in this process, each with a data
/// folder of its own, on one PostgreSQL and one RabbitMQ (and, for the backplane, one Redis) that
/// the tests start. A staff login made on one node works on the other, an admin's save on one node
/// is served and drawn by the other, and a dashboard on one node is pushed what a finish on the
/// other caused. Each test has a database and a virtual host of its own.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class NodesAgreeTests(RabbitMqServerFixture broker, PostgresServerFixture postgres, RedisServerFixture redis)
    : IClassFixture<PostgresServerFixture>, IClassFixture<RedisServerFixture>, IDisposable
{
    private const string Revised = "（修订）";
    private readonly Deployment _deployment = new(broker, postgres, "nodes-agree");

    public void Dispose() => _deployment.Dispose();

    private QuizApplication Node(string name, bool kestrel = false) => _deployment.Node(name, kestrel);

    private static Task StartAsync(QuizApplication node) => node.BusReadyAsync();

    /// <summary>The cookies a response sets, as a Cookie header's "name=value" pairs.</summary>
    private static IEnumerable<string> CookiesSetBy(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.Select(v => v.Split(';')[0]) : [];

    [Fact]
    public async Task AStaffLoginMadeOnOneNodeWorksOnTheOther()
    {
        var a = Node("node-a");
        var b = Node("node-b");
        await StartAsync(a);
        await StartAsync(b);
        await Staff.CreateAsync(a, "root", Roles.Admin, null);

        // Logged in on A, as the admin console does: the staff cookie, then the antiforgery token.
        var noCookies = new WebApplicationFactoryClientOptions { HandleCookies = false };
        using var onA = a.CreateClient(noCookies);
        using var login = await onA.PostAsJsonAsync("/api/accounts/login", new { name = "root", password = Staff.Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var cookies = CookiesSetBy(login).ToList();
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, "/api/accounts/antiforgery") { Headers = { { "Cookie", string.Join("; ", cookies) } } };
        using var tokenResponse = await onA.SendAsync(tokenRequest);
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        var token = (await tokenResponse.Content.ReadFromJsonAsync<AccountsApi.AntiforgeryToken>())!;
        cookies.AddRange(CookiesSetBy(tokenResponse));

        // Working on B: B reads the cookie and the token that A's keys protected.
        using var onB = b.CreateClient(noCookies);
        using var me = new HttpRequestMessage(HttpMethod.Get, "/api/accounts/me") { Headers = { { "Cookie", string.Join("; ", cookies) } } };
        using var meResponse = await onB.SendAsync(me);
        Assert.True(meResponse.StatusCode == HttpStatusCode.OK, $"node B refused node A's staff cookie: {(int)meResponse.StatusCode}");
        Assert.Equal("root", (await meResponse.Content.ReadFromJsonAsync<AccountsApi.StaffView>())!.Name);

        var campaign = PlayWorld.Campaign();
        using var save = new HttpRequestMessage(HttpMethod.Put, $"/api/admin/campaigns/{campaign.Id}")
        {
            Content = new StringContent(JsonSerializer.Serialize(campaign, Campaign.Json), System.Text.Encoding.UTF8, "application/json"),
            Headers = { { "Cookie", string.Join("; ", cookies) }, { token.HeaderName, token.Token } },
        };
        using var saved = await onB.SendAsync(save);
        Assert.True(saved.StatusCode == HttpStatusCode.OK, $"node B refused a change made with node A's login: {(int)saved.StatusCode} {await saved.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task AnAdminsSaveOnOneNodeIsServedAndDrawnByTheOther()
    {
        var a = Node("node-a");
        await StartAsync(a);
        await PlayWorld.SeedAsync(a);
        var b = Node("node-b");
        await StartAsync(b); // loads the seeded units, campaign and bank

        // B has drawn from the bank: its draw cache holds the first versions.
        var first = (await PlayWorld.RegisterAsync(b)).Participant.ParticipantId;
        var before = await b.Service<RoundService>().StartAsync(first, new StartRoundRequest(PlayWorld.CampaignId));
        Assert.DoesNotContain(before.Questions, q => q.Stem.EndsWith(Revised, StringComparison.Ordinal));
        using (var onB = b.CreateClient())
            Assert.Equal("测试赛", (await onB.GetFromJsonAsync<Campaign>($"/api/campaigns/{PlayWorld.CampaignId}", Campaign.Json))!.Name);

        // An admin on A revises every question and renames the campaign.
        var revised = PlayWorld.Questions().Select(q => new Dictionary<string, string>(q) { ["stem"] = q["stem"] + Revised }).ToList();
        using (var imported = await a.UploadQuestionsAsync(false, ("bank.csv", SampleQuestions.Csv(revised))))
            Assert.True(imported.IsSuccessStatusCode, await imported.Content.ReadAsStringAsync());
        using (var admin = a.CreateAdminClient())
        using (var renamed = await admin.PutAsync($"/api/admin/campaigns/{PlayWorld.CampaignId}",
            new StringContent(JsonSerializer.Serialize(PlayWorld.Campaign() with { Name = "测试赛（改名）" }, Campaign.Json), System.Text.Encoding.UTF8, "application/json")))
            Assert.True(renamed.IsSuccessStatusCode, await renamed.Content.ReadAsStringAsync());

        // B serves the new campaign and draws the new versions, without a restart.
        using (var onB = b.CreateClient())
        {
            var name = await Eventually.ReadAsync(
                async () => (await onB.GetFromJsonAsync<Campaign>($"/api/campaigns/{PlayWorld.CampaignId}", Campaign.Json))!.Name,
                n => n == "测试赛（改名）", TimeSpan.FromSeconds(15));
            Assert.Equal("测试赛（改名）", name);
        }
        var drawn = await Eventually.ReadAsync(async () =>
        {
            var player = (await PlayWorld.RegisterAsync(b)).Participant.ParticipantId;
            return (await b.Service<RoundService>().StartAsync(player, new StartRoundRequest(PlayWorld.CampaignId))).Questions;
        }, questions => questions.All(q => q.Stem.EndsWith(Revised, StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
        Assert.All(drawn, q => Assert.EndsWith(Revised, q.Stem, StringComparison.Ordinal));
    }

    /// <summary>
    /// The nodes rank in process here, each its own finishes: then the only way node A's dashboard
    /// can hear of a finish on node B is the backplane. (A deployment ranks in Redis, where A's
    /// board cache would also notice the change within its refresh, but only for boards A's own
    /// pages are watching.)
    /// </summary>
    [Fact]
    public async Task ADashboardOnOneNodeIsPushedWhatAFinishOnTheOtherCaused()
    {
        var a = Node("node-a", kestrel: true).With("SignalR:Redis", redis.Configuration);
        await StartAsync(a);
        await PlayWorld.SeedAsync(a);
        var b = Node("node-b").With("SignalR:Redis", redis.Configuration);
        await StartAsync(b);

        // A unit's staff watch their dashboard on A.
        await Staff.CreateAsync(a, "hefei", Roles.UnitStaff, PlayWorld.City);
        var cookies = new CookieContainer();
        using (var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = a.ServerAddress })
            (await http.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = Staff.Password })).EnsureSuccessStatusCode();
        await using var dashboard = new HubConnectionBuilder()
            .WithUrl(new Uri(a.ServerAddress, "/hubs/dashboard"), o => o.Cookies = cookies)
            .Build();
        var pushed = new TaskCompletionSource<(UnitsChanged Change, long At)>(TaskCreationOptions.RunContinuationsAsynchronously);
        dashboard.On<UnitsChanged>("UnitsChanged", change => pushed.TrySetResult((change, Stopwatch.GetTimestamp())));
        await dashboard.StartAsync();

        // Someone on B has the board open, so B's ranking reports its changes; a player finishes on B.
        using (var watcher = await Staff.LoginAsync(b, "hefei-b", Roles.UnitStaff, PlayWorld.City))
            (await watcher.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/units")).EnsureSuccessStatusCode();
        await Staff.PlayRoundAsync(b, PlayWorld.County);
        var finished = Stopwatch.GetTimestamp();
        // B's counters and board refresh run on its fake clock's timers (≤ 250 ms and about 1 s on a real one): by hand here.
        await Staff.FlushRankingsAsync(b);

        var completed = await Task.WhenAny(pushed.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(completed == pushed.Task, "the dashboard on node A was not pushed the finish made on node B");
        var (change, at) = await pushed.Task;
        Assert.Equal(PlayWorld.CampaignId, change.CampaignId);
        var took = Stopwatch.GetElapsedTime(finished, at);
        Assert.True(took < TimeSpan.FromSeconds(2), $"the push reached node A {took.TotalMilliseconds:F0} ms after the finish on node B");
    }
}
