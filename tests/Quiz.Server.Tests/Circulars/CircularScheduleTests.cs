using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Validation;
using DocumentFormat.OpenXml.Wordprocessing;
using Quiz.Server.Campaigns;
using Quiz.Server.Circulars;
using Quiz.Server.Security;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Circulars;

/// <summary>The calendar of the schedule: pure rules, no server.</summary>
public sealed class CircularCalendarTests
{
    private static readonly CircularOptions Defaults = new();

    private static string Show(CircularSchedule.Due d) =>
        $"{CircularSchedule.Name(d.Kind)} {d.From:MM-dd}..{d.To:MM-dd} at {d.At.ToOffset(TimeSpan.FromHours(8)):MM-dd HH:mm}";

    [Fact]
    public void ATenDayCampaignHasTenDispatchesTwoWeeksAndTwoHalfMonths()
    {
        // 12 June 2024 is a Wednesday; the campaign ends on Friday 21 June.
        var all = CircularSchedule.All(PlayWorld.Campaign(), Defaults).Select(Show).ToList();
        Assert.Equal(Enumerable.Range(12, 10).Select(d => $"daily 06-{d}..06-{d} at 06-{d} 20:00"), all.Where(s => s.StartsWith("daily")));
        Assert.Equal(["weekly 06-12..06-16 at 06-16 20:00", "weekly 06-17..06-21 at 06-21 20:00"], all.Where(s => s.StartsWith("weekly")));
        Assert.Equal(["half-month 06-12..06-15 at 06-15 20:00", "half-month 06-16..06-21 at 06-21 20:00"], all.Where(s => s.StartsWith("half-month")));
    }

    [Fact]
    public void AMonthLongCampaignHalvesItsMonthAndKeepsItsOwnClockAndWeekday()
    {
        var campaign = PlayWorld.Campaign(s => s with { StartDay = new DateOnly(2024, 6, 1), EndDay = new DateOnly(2024, 6, 30) });
        var options = new CircularOptions { IssueAt = new TimeOnly(18, 30), WeeklyOn = DayOfWeek.Friday };
        var all = CircularSchedule.All(campaign, options).ToList();
        Assert.Equal(["half-month 06-01..06-15 at 06-15 18:30", "half-month 06-16..06-30 at 06-30 18:30"],
            all.Where(d => d.Kind == CircularKind.HalfMonth).Select(Show));
        // Fridays 7, 14, 21 and 28 June, and the campaign's last two days.
        Assert.Equal(["06-01..06-07", "06-08..06-14", "06-15..06-21", "06-22..06-28", "06-29..06-30"],
            all.Where(d => d.Kind == CircularKind.Weekly).Select(d => $"{d.From:MM-dd}..{d.To:MM-dd}"));
        Assert.All(all, d => Assert.Equal(TimeSpan.FromHours(10.5), d.At.UtcDateTime.TimeOfDay)); // 18:30 at +08:00
    }

    [Fact]
    public void DaysBetweenStagesHaveNoDispatchAndLateOnesAreIssuedWithinTheCatchUp()
    {
        var campaign = PlayWorld.Campaign() with
        {
            Stages =
            [
                PlayWorld.Campaign().Stages[0] with { Id = "a", StartDay = new DateOnly(2024, 6, 12), EndDay = new DateOnly(2024, 6, 13) },
                PlayWorld.Campaign().Stages[0] with { Id = "b", StartDay = new DateOnly(2024, 6, 16), EndDay = new DateOnly(2024, 6, 17) },
            ],
        };
        Assert.Equal(["06-12", "06-13", "06-16", "06-17"],
            CircularSchedule.All(campaign, Defaults).Where(d => d.Kind == CircularKind.Daily).Select(d => $"{d.From:MM-dd}"));

        var now = new DateTimeOffset(2024, 6, 16, 19, 59, 0, TimeSpan.FromHours(8));
        var due = CircularSchedule.DueAt(campaign, new CircularOptions { CatchUp = TimeSpan.FromDays(3) }, now).Select(Show).ToList();
        Assert.Equal(["daily 06-13..06-13 at 06-13 20:00", "half-month 06-12..06-15 at 06-15 20:00"], due); // 12 June is over 3 days ago; the 16th's not yet
    }
}

/// <summary>
/// The schedule on a server with the fake clock: 安徽省 › 合肥市 (PlayWorld) and 芜湖市, so two city
/// offices and their province. Each test has a server of its own, since each moves its clock on.
/// </summary>
public sealed class CircularScheduleTests
{
    private const string Wuhu = "340200", Jinghu = "340202";

    private static async Task<QuizApplication> WorldAsync(QuizApplication? app = null)
    {
        app ??= new QuizApplication().With("Circulars:Schedule", "true");
        await PlayWorld.SeedAsync(app);
        var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes("""
            code,name,parent_code,level,headcount_base
            340200,芜湖市,340000,city,30000
            340202,镜湖区,340200,county,4000
            """), ".csv");
        Assert.True((await app.Service<UnitImport>().ImportAsync([(regions, "regions.csv")])).Ok);
        File.Delete(regions);
        return app;
    }

    /// <summary>Moves the clock and waits until the schedule has looked at the new time: what it issues by then is all it issues.</summary>
    private static async Task AdvanceToAsync(QuizApplication app, DateTimeOffset instant)
    {
        app.Clock.SetUtcNow(instant);
        await LookedAsync(app);
    }

    private static async Task LookedAsync(QuizApplication app)
    {
        var now = app.Clock.GetUtcNow();
        var scheduler = app.Service<CircularScheduler>();
        var looked = await Eventually.ReadAsync(() => Task.FromResult(scheduler.LookedAt), t => t >= now, TimeSpan.FromSeconds(30));
        Assert.True(looked >= now, $"the schedule last looked at {looked:O}, the clock is at {now:O}");
    }

    private static DateTimeOffset China(int day, int hour, int minute = 0) => new(2024, 6, day, hour, minute, 0, TimeSpan.FromHours(8));

    private static async Task<List<string>> IssuedAsync(QuizApplication app)
    {
        await using var connection = await app.Service<Database>().OpenAsync();
        return (await connection.QueryAsync<string>(
            "SELECT kind || ' ' || unit_code || ' ' || period_from || '..' || period_to FROM issued_circulars ORDER BY period_to, kind, unit_code")).ToList();
    }

    private static async Task PlayAndProjectAsync(QuizApplication app, string region, int rounds)
    {
        for (var i = 0; i < rounds; i++) await Staff.PlayRoundAsync(app, region);
        await using var connection = await app.Service<Database>().OpenAsync();
        var day = PlayWorld.Campaign().DayOf(app.Clock.GetUtcNow()).ToString("yyyy-MM-dd");
        var played = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM results x JOIN participants p ON p.id = x.participant_id WHERE x.day = @day", new { day });
        // The circulars read the projection, which is eventual: wait until the province's row holds the day's rounds.
        var projected = await Eventually.ReadAsync(async () => await connection.ExecuteScalarAsync<long>(
                "SELECT COALESCE(SUM(rounds), 0) FROM unit_daily_stats WHERE unit_code = @p AND day = @day", new { p = PlayWorld.Province, day }),
            n => n == played, TimeSpan.FromSeconds(30));
        Assert.Equal(played, projected);
    }

    [Fact]
    public async Task TheDailyDispatchIsIssuedOnceADayAtItsTimeAndNotAgainAfterARestart()
    {
        using var app = await WorldAsync();
        await PlayAndProjectAsync(app, PlayWorld.County, 2);
        await PlayAndProjectAsync(app, Jinghu, 1);
        await LookedAsync(app);
        Assert.Empty(await IssuedAsync(app)); // 10:00 on the first day

        await AdvanceToAsync(app, China(12, 19, 59));
        Assert.Empty(await IssuedAsync(app));
        await AdvanceToAsync(app, China(12, 20, 1));
        string[] first = ["daily 340000 2024-06-12..2024-06-12", "daily 340100 2024-06-12..2024-06-12", "daily 340200 2024-06-12..2024-06-12"];
        Assert.Equal(first, await IssuedAsync(app));

        // The next morning a round more; nothing new until the evening, then the 13th's dispatch once.
        await AdvanceToAsync(app, China(13, 9));
        await PlayAndProjectAsync(app, PlayWorld.OtherCounty, 1);
        Assert.Equal(first, await IssuedAsync(app));
        await AdvanceToAsync(app, China(13, 20, 0));
        await AdvanceToAsync(app, China(13, 23, 0));
        string[] second = [.. first, "daily 340000 2024-06-13..2024-06-13", "daily 340100 2024-06-13..2024-06-13", "daily 340200 2024-06-13..2024-06-13"];
        Assert.Equal(second, await IssuedAsync(app));

        // The 12th's dispatch holds the 12th: 合肥市's two rounds, and 芜湖市's one ranked below it.
        using var admin = await Staff.LoginAsync(app, "root", Roles.Admin);
        var listed = (await admin.GetFromJsonAsync<List<CircularsApi.IssuedCircular>>($"/api/dashboard/{PlayWorld.CampaignId}/circulars?unit={PlayWorld.Province}"))!;
        Assert.Equal(["2024-06-13", "2024-06-12"], listed.Select(c => c.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        Assert.All(listed, c => Assert.Equal((CircularKind.Daily, "安徽省"), (c.Kind, c.UnitName)));
        Assert.Equal(China(12, 20, 1), listed[1].IssuedAt);
        using var response = await admin.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/circulars/{listed[1].Id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{PlayWorld.CampaignId}-340000-20240612-20240612-daily.docx", response.Content.Headers.ContentDisposition?.FileNameStar);
        using (var document = WordprocessingDocument.Open(new MemoryStream(await response.Content.ReadAsByteArrayAsync()), false))
        {
            Assert.Empty(new OpenXmlValidator().Validate(document).Select(e => e.Description));
            var body = document.MainDocumentPart!.Document!.Body!;
            Assert.Equal("（2024年6月12日）", body.Elements<Paragraph>().ElementAt(1).InnerText);
            var totals = body.Elements<Table>().First().Elements<TableRow>().Select(r => r.Elements<TableCell>().Select(c => c.InnerText).ToArray()).ToList();
            Assert.Equal(["答题次数", "3", "0", "+3"], totals.Single(r => r[0] == "答题次数"));
            var ranking = body.Elements<Table>().ElementAt(1).Elements<TableRow>().Skip(1).Select(r => r.Elements<TableCell>().Select(c => c.InnerText).ToArray()).ToList();
            Assert.Equal([("合肥市", "2"), ("芜湖市", "1")], ranking.Select(r => (r[1], r[6])).OrderBy(r => r.Item1, StringComparer.Ordinal));
        }
        using var annex = await admin.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/circulars/{listed[1].Id}?format=xlsx");
        Assert.Equal(HttpStatusCode.OK, annex.StatusCode);
        Assert.Equal("PK"u8.ToArray(), (await annex.Content.ReadAsByteArrayAsync())[..2]);

        // A restart on the same store (or a second node beside it) finds nothing left to issue.
        Assert.Equal(0, await app.Service<CircularScheduler>().IssueDueAsync(app.Clock.GetUtcNow()));
        using var restarted = new QuizApplication(now: app.Clock.GetUtcNow()).With("Storage:DataDir", app.DataDir).With("Circulars:Schedule", "true");
        await LookedAsync(restarted);
        Assert.Equal(second, await IssuedAsync(restarted));
    }

    [Fact]
    public async Task TwoNodesLookingAtTheSameEveningIssueEachCircularOnce()
    {
        using var a = await WorldAsync();
        using var b = new QuizApplication(now: a.Clock.GetUtcNow()).With("Storage:DataDir", a.DataDir).With("Circulars:Schedule", "true");
        await LookedAsync(b);
        // Both nodes make the evening's circulars side by side; the store keeps one of each.
        var issuing = new[] { a, b }.Select(app => app.Service<CircularScheduler>().IssueDueAsync(China(12, 20, 5))).ToArray();
        var wrote = await Task.WhenAll(issuing);
        Assert.Equal(3, wrote.Sum());
        Assert.Equal(["daily 340000 2024-06-12..2024-06-12", "daily 340100 2024-06-12..2024-06-12", "daily 340200 2024-06-12..2024-06-12"],
            await IssuedAsync(a));
    }

    [Fact]
    public async Task TheWeeklyReviewAndTheHalfMonthCircularAreIssuedOnTheirDates()
    {
        using var app = await WorldAsync();
        await PlayAndProjectAsync(app, PlayWorld.County, 1);
        for (var day = 12; day <= 14; day++) await AdvanceToAsync(app, China(day, 20, 1));
        Assert.DoesNotContain(await IssuedAsync(app), c => !c.StartsWith("daily "));

        await AdvanceToAsync(app, China(15, 19, 0));
        Assert.DoesNotContain(await IssuedAsync(app), c => c.StartsWith("half-month "));
        await AdvanceToAsync(app, China(15, 20, 1)); // the 15th's evening: the first half of June (the campaign's part of it)
        Assert.Equal(["half-month 340000 2024-06-12..2024-06-15", "half-month 340100 2024-06-12..2024-06-15", "half-month 340200 2024-06-12..2024-06-15"],
            (await IssuedAsync(app)).Where(c => c.StartsWith("half-month ")));
        Assert.DoesNotContain(await IssuedAsync(app), c => c.StartsWith("weekly "));

        await AdvanceToAsync(app, China(16, 20, 1)); // Sunday: the week so far
        Assert.Equal(["weekly 340000 2024-06-12..2024-06-16", "weekly 340100 2024-06-12..2024-06-16", "weekly 340200 2024-06-12..2024-06-16"],
            (await IssuedAsync(app)).Where(c => c.StartsWith("weekly ")));
        for (var day = 17; day <= 21; day++) await AdvanceToAsync(app, China(day, 20, 1));
        await AdvanceToAsync(app, China(23, 20, 1));

        // The campaign's last day (Friday 21 June) closes its week and its half-month.
        var issued = await IssuedAsync(app);
        Assert.Equal(["2024-06-12..2024-06-16", "2024-06-17..2024-06-21"], issued.Where(c => c.StartsWith("weekly 340100 ")).Select(c => c.Split(' ')[2]));
        Assert.Equal(["2024-06-12..2024-06-15", "2024-06-16..2024-06-21"], issued.Where(c => c.StartsWith("half-month 340100 ")).Select(c => c.Split(' ')[2]));
        Assert.Equal(Enumerable.Range(12, 10).Select(d => $"2024-06-{d}..2024-06-{d}"), issued.Where(c => c.StartsWith("daily 340100 ")).Select(c => c.Split(' ')[2]));
        Assert.Equal((10 + 2 + 2) * 3, issued.Count);
    }

    [Fact]
    public async Task CityStaffListAndDownloadTheirOwnCircularsOnly()
    {
        using var app = await WorldAsync(new QuizApplication().With("Circulars:Schedule", "true").With("Circulars:IssueAt", "18:30"));
        await PlayAndProjectAsync(app, Jinghu, 1);
        await AdvanceToAsync(app, China(12, 18, 29));
        Assert.Empty(await IssuedAsync(app));
        await AdvanceToAsync(app, China(12, 18, 31)); // the office's own time, from the settings
        using var admin = await Staff.LoginAsync(app, "root", Roles.Admin);
        using var province = await Staff.LoginAsync(app, "anhui-office", Roles.UnitStaff, PlayWorld.Province);
        using var hefei = await Staff.LoginAsync(app, "hefei-office", Roles.UnitStaff, PlayWorld.City);
        using var wuhu = await Staff.LoginAsync(app, "wuhu-office", Roles.UnitStaff, Wuhu);
        using var anonymous = app.CreateClient();
        var url = $"/api/dashboard/{PlayWorld.CampaignId}/circulars";

        async Task<List<string>> Units(HttpClient client, string query = "") =>
            (await client.GetFromJsonAsync<List<CircularsApi.IssuedCircular>>(url + query))!.Select(c => c.Unit).ToList();
        var all = (await admin.GetFromJsonAsync<List<CircularsApi.IssuedCircular>>(url))!.ToDictionary(c => c.Unit, c => c.Id);
        Assert.Equal([PlayWorld.Province, PlayWorld.City, Wuhu], all.Keys);
        Assert.Equal([PlayWorld.Province, PlayWorld.City, Wuhu], await Units(province));
        Assert.Equal([PlayWorld.City], await Units(province, $"?unit={PlayWorld.City}"));
        Assert.Equal([PlayWorld.City], await Units(hefei));
        Assert.Equal([Wuhu], await Units(wuhu));
        Assert.Equal([Wuhu], await Units(wuhu, $"?unit={Wuhu}"));
        Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync(url + $"?unit={Wuhu}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync(url + $"?unit={PlayWorld.Province}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);

        foreach (var format in new[] { "docx", "xlsx" })
        {
            Assert.Equal(HttpStatusCode.OK, (await hefei.GetAsync($"{url}/{all[PlayWorld.City]}?format={format}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync($"{url}/{all[Wuhu]}?format={format}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync($"{url}/{all[PlayWorld.Province]}?format={format}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await wuhu.GetAsync($"{url}/{all[PlayWorld.City]}?format={format}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await province.GetAsync($"{url}/{all[Wuhu]}?format={format}")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"{url}/{all[Wuhu]}?format={format}")).StatusCode);
        }

        var problems = new (string Url, HttpStatusCode Status, string Title)[]
        {
            ($"{url}/{all.Values.Max() + 1000}", HttpStatusCode.NotFound, "Unknown circular"),
            ($"{url}/{all[Wuhu]}?format=pdf", HttpStatusCode.BadRequest, "Unknown format"),
            ($"/api/dashboard/no-such-campaign/circulars/{all[Wuhu]}", HttpStatusCode.NotFound, "Unknown campaign"),
            ("/api/dashboard/no-such-campaign/circulars", HttpStatusCode.NotFound, "Unknown campaign"),
            ($"{url}?unit=999999", HttpStatusCode.NotFound, "Unknown unit"),
        };
        foreach (var (problemUrl, status, title) in problems)
        {
            using var response = await admin.GetAsync(problemUrl);
            Assert.True(response.StatusCode == status, $"{problemUrl}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal(title, (await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>())!.Title);
        }
    }
}
