using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using MiniExcelLibs;
using Quiz.Server.Accounts;
using Quiz.Server.Dashboard;
using Quiz.Server.Security;
using Quiz.Server.Tests.Infrastructure;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Dashboard;

public sealed class DashboardTests : IAsyncLifetime
{
    private const string OtherProvince = "350000", OtherCity = "350100", OtherCounty = "350102", OtherOrganisation = "ORG-003";
    private readonly QuizApplication _app = new(kestrel: true);

    public async Task InitializeAsync()
    {
        await PlayWorld.SeedAsync(_app);
        var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes("""
            code,name,parent_code,level,headcount_base
            350000,福建省,,province,30000000
            350100,福州市,350000,city,6000000
            350102,鼓楼区,350100,county,500000
            """), ".csv");
        var organisations = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes("""
            code,name,type,region_code,headcount_base,demo
            ORG-003,闽江示范银行,bank,350102,800,true
            """), ".csv");
        Assert.True((await _app.Service<UnitImport>().ImportAsync([(regions, "regions.csv"), (organisations, "organisations.csv")])).Ok);
    }

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    private string Api(string path, string? unit = null, string? extra = null) =>
        $"/api/dashboard/{PlayWorld.CampaignId}/{path}?{(unit is null ? "" : $"unit={unit}&")}{extra}";

    [Fact]
    public async Task UnitStaffSeeTheirSubtreeAndNothingElse()
    {
        using var city = await Staff.LoginAsync(_app, "hefei", Roles.UnitStaff, PlayWorld.City);
        using var county = await Staff.LoginAsync(_app, "yaohai", Roles.UnitStaff, PlayWorld.County);
        using var bank = await Staff.LoginAsync(_app, "bank", Roles.UnitStaff, PlayWorld.Bank);
        using var anonymous = _app.CreateClient();

        var allowed = new (HttpClient Client, string? Unit)[]
        {
            (city, null), (city, PlayWorld.City), (city, PlayWorld.County), (city, PlayWorld.OtherCounty), (city, PlayWorld.Bank),
            (county, PlayWorld.County), (county, PlayWorld.Bank), (bank, PlayWorld.Bank),
        };
        var refused = new (HttpClient Client, string? Unit)[]
        {
            (city, PlayWorld.Province), (city, OtherProvince), (city, OtherCounty), (city, OtherOrganisation),
            (county, PlayWorld.City), (county, PlayWorld.OtherCounty), (county, PlayWorld.University),
            (bank, PlayWorld.County), (bank, PlayWorld.University), (bank, "no-such-unit"),
            (city, "type:"), (city, "type:bank"), (bank, "type:bank"), // organisations by type: admins only
        };
        foreach (var path in new[] { "units", "trend", "report", "export" })
        {
            var extra = path == "export" ? "format=csv" : null;
            foreach (var (client, unit) in allowed)
            {
                using var response = await client.GetAsync(Api(path, unit, extra));
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} {unit} should be allowed: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            foreach (var (client, unit) in refused)
                Assert.True((await client.GetAsync(Api(path, unit, extra))).StatusCode == HttpStatusCode.Forbidden, $"{path} {unit} should be refused");
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Api(path, PlayWorld.County, extra))).StatusCode);
        }
        // A participant's token is no staff login either.
        var player = await PlayWorld.RegisterAsync(_app);
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", player.Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(Api("units", PlayWorld.County))).StatusCode);
    }

    [Fact]
    public async Task AdminsDrillDownFromOrganisationTypesToOrganisations()
    {
        await Staff.PlayRoundAsync(_app, PlayWorld.County, PlayWorld.Bank);
        await Staff.PlayRoundAsync(_app, PlayWorld.County, PlayWorld.University);
        await Staff.PlayRoundAsync(_app, PlayWorld.OtherCounty, PlayWorld.University);
        await Staff.FlushRankingsAsync(_app);
        using var admin = await Staff.LoginAsync(_app, "root", Roles.Admin);

        var types = await admin.GetFromJsonAsync<DashboardService.UnitsView>(Api("units", "type:"));
        Assert.Equal(("type:", 3L, types!.Children.Sum(c => c.Headcount)), (types.Unit!.Code, types.Unit.Participants, types.Unit.Headcount));
        Assert.Equal(["type:university", "type:bank"], types.Children.Take(2).Select(c => c.Code));
        Assert.Equal(("高校", 2L, true), (types.Children[0].Name, types.Children[0].Participants, types.Children[0].HasChildren));

        var universities = await admin.GetFromJsonAsync<DashboardService.UnitsView>(Api("units", "type:university"));
        Assert.Equal(("高校", 2L), (universities!.Unit!.Name, universities.Unit.Participants));
        var college = Assert.Single(universities.Children);
        Assert.Equal((PlayWorld.University, 2L, 20_000L, false), (college.Code, college.Participants, college.Headcount, college.HasChildren));
        Assert.Equal(1m, college.PerTenThousand);

        var csv = Encoding.UTF8.GetString(await admin.GetByteArrayAsync(Api("export", "type:university", "format=csv")));
        Assert.Contains($"{PlayWorld.University},皖中示范学院,2,20000,1.00,", csv);
        var report = await admin.GetFromJsonAsync<DashboardService.DailyReport>(Api("report", "type:university"));
        Assert.Equal(("高校", PlayWorld.University), (report!.UnitName, Assert.Single(report.Children).Code));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(Api("trend", "type:university"))).StatusCode);
    }

    [Fact]
    public async Task TheUnitsViewShowsChildrenCumulativeAndToday()
    {
        var scores = new List<int>
        {
            (await Staff.PlayRoundAsync(_app, PlayWorld.County, PlayWorld.Bank)).Score,
            (await Staff.PlayRoundAsync(_app, PlayWorld.County)).Score,
            (await Staff.PlayRoundAsync(_app, PlayWorld.OtherCounty)).Score,
        };
        _app.Clock.Advance(TimeSpan.FromDays(1));
        var tomorrow = (await Staff.PlayRoundAsync(_app, PlayWorld.OtherCounty)).Score;
        await Staff.FlushRankingsAsync(_app);
        using var admin = await Staff.LoginAsync(_app, "root", Roles.Admin);

        var view = await admin.GetFromJsonAsync<DashboardService.UnitsView>(Api("units", PlayWorld.City));

        Assert.Equal(4, view!.Unit!.Participants);
        Assert.Equal(4, view.Unit.Rounds);
        Assert.Equal(scores.Sum() + tomorrow, view.Unit.Points);
        Assert.Equal(1, view.Unit.TodayParticipants);
        var counties = view.Children.ToDictionary(c => c.Code);
        Assert.Equal([PlayWorld.County, PlayWorld.OtherCounty], counties.Keys.Order());
        Assert.Equal((2L, 0L), (counties[PlayWorld.County].Participants, counties[PlayWorld.County].TodayParticipants));
        Assert.Equal((2L, 1L), (counties[PlayWorld.OtherCounty].Participants, counties[PlayWorld.OtherCounty].TodayParticipants));
        Assert.Equal(2.0 / 900_000, counties[PlayWorld.County].ParticipationRate, 12);

        var national = await admin.GetFromJsonAsync<DashboardService.UnitsView>(Api("units"));
        Assert.Equal(("全国", national!.Children.Sum(c => c.Participants), national.Children.Sum(c => c.Headcount)), (national.Unit!.Name, national.Unit.Participants, national.Unit.Headcount));
        Assert.True(national.Children[0].HasChildren);
        Assert.Equal([PlayWorld.Province, OtherProvince], national.Children.Select(c => c.Code));
        Assert.Equal(4, national.Children[0].Participants);
    }

    [Fact]
    public async Task TheParticipationRateDividesByTheTargetBaseWhenTheCampaignNamesIt()
    {
        // The officials' targets (20 % of residents aged 18–60, say): 瑶海区 180,000, 庐阳区 140,000;
        // 合肥市 has none of its own, so it rolls up its counties' 320,000.
        var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes("""
            code,name,parent_code,level,headcount_base,target_base
            340000,安徽省,,province,50000000,6000000
            340100,合肥市,340000,city,8000000,
            340102,瑶海区,340100,county,900000,180000
            340103,庐阳区,340100,county,700000,140000
            """), ".csv");
        Assert.True((await _app.Service<UnitImport>().ImportAsync([(regions, "regions.csv")])).Ok);
        File.Delete(regions);
        await _app.Service<Quiz.Server.Campaigns.CampaignCatalog>().SaveAsync(
            PlayWorld.Campaign() with { HeadcountBase = Quiz.Server.Campaigns.HeadcountBase.Target });

        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        await Staff.PlayRoundAsync(_app, PlayWorld.OtherCounty);
        await Staff.FlushRankingsAsync(_app);
        using var admin = await Staff.LoginAsync(_app, "root", Roles.Admin);

        var view = await admin.GetFromJsonAsync<DashboardService.UnitsView>(Api("units", PlayWorld.City));
        var counties = view!.Children.ToDictionary(c => c.Code);
        Assert.Equal((180_000L, 2.0 / 180_000), (counties[PlayWorld.County].Headcount, counties[PlayWorld.County].ParticipationRate));
        Assert.Equal((140_000L, 1.0 / 140_000), (counties[PlayWorld.OtherCounty].Headcount, counties[PlayWorld.OtherCounty].ParticipationRate));
        Assert.Equal((320_000L, 3.0 / 320_000), (view.Unit!.Headcount, view.Unit.ParticipationRate));
        var provinces = await admin.GetFromJsonAsync<List<Quiz.Server.Rankings.RankingService.UnitRow>>(
            $"/api/rankings/{PlayWorld.CampaignId}/units?level=province&metric=participation-rate");
        Assert.Equal(6_000_000, provinces!.Single(p => p.Code == PlayWorld.Province).Headcount);

        // The printable report divides by the same base.
        var report = await admin.GetFromJsonAsync<DashboardService.DailyReport>(Api("report", PlayWorld.City, "day=2024-06-12"));
        Assert.Equal(320_000, report!.Totals.Headcount);
        Assert.Equal(180_000, report.Children.Single(c => c.Code == PlayWorld.County).Headcount);
    }

    [Fact]
    public async Task TheTrendAndTheDailyReportComeFromTheStore()
    {
        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        await Staff.PlayRoundAsync(_app, PlayWorld.OtherCounty);
        _app.Clock.Advance(TimeSpan.FromDays(1));
        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        using var staff = await Staff.LoginAsync(_app, "hefei", Roles.UnitStaff, PlayWorld.City);

        // projections are eventual (a publish left to the catch-up takes up to ~10 s)
        var trend = await Eventually.ReadAsync(() => staff.GetFromJsonAsync<List<DashboardService.DayStats>>(Api("trend")),
            t => t?.Sum(d => d.Rounds) == 3, TimeSpan.FromSeconds(30));
        var report = await staff.GetFromJsonAsync<DashboardService.DailyReport>(Api("report", extra: "day=2024-06-12"));

        Assert.NotNull(trend);
        Assert.Equal(["2024-06-12", "2024-06-13"], trend.Select(d => d.Day));
        Assert.Equal((2L, 2L, 2L), (trend[0].NewParticipants, trend[0].Participants, trend[0].Rounds));
        Assert.Equal((1L, 1L, 1L), (trend[1].NewParticipants, trend[1].Participants, trend[1].Rounds));
        Assert.Equal("合肥市", report!.UnitName);
        Assert.Equal(2, report.Totals.Participants);
        Assert.Equal([1L, 1L], report.Children.Select(c => c.Participants));
        Assert.Equal(2, report.TopMovers.Count);
    }

    [Fact]
    public async Task TheTableExportsAsCsvAndXlsx()
    {
        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        await Staff.FlushRankingsAsync(_app);
        using var staff = await Staff.LoginAsync(_app, "hefei", Roles.UnitStaff, PlayWorld.City);

        var csv = await staff.GetByteArrayAsync(Api("export", extra: "format=csv"));
        var xlsx = await staff.GetByteArrayAsync(Api("export", extra: "format=xlsx"));
        using var bad = await staff.GetAsync(Api("export", extra: "format=pdf"));

        Assert.Equal([0xEF, 0xBB, 0xBF], csv.Take(3));
        var lines = Encoding.UTF8.GetString(csv, 3, csv.Length - 3).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("单位代码,单位,参与人数", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"{PlayWorld.County},瑶海区,1,", lines[1]);
        Assert.StartsWith("单位代码,单位,参与人数,基数,参与率（每万人）,", lines[0]);
        Assert.All(lines.Skip(1), line => Assert.Matches(@"^[^,]+,[^,]+,\d+,\d+,\d+\.\d\d,", line)); // never 1.1E-06
        var rows = MiniExcel.Query(new MemoryStream(xlsx), useHeaderRow: true).Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("瑶海区", rows[0]["单位"]);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task ExportsDefuseCellsThatASpreadsheetWouldRunAsFormulas()
    {
        // The import refuses such names now; one already in the store (an older import) is defused on the way out.
        const string Payload = "=cmd|' /C calc'!A0";
        await using (var connection = await _app.Service<Quiz.Server.Storage.Database>().OpenAsync())
            await Dapper.SqlMapper.ExecuteAsync(connection, """
                INSERT INTO regions (code, name, parent_code, level, depth, headcount_base)
                VALUES ('340199', @Payload, @City, 'county', 3, 1000), ('340198', '-2+3', @City, 'county', 3, 1000)
                """, new { Payload, PlayWorld.City });
        await _app.Service<UnitDirectory>().LoadAsync();
        using var staff = await Staff.LoginAsync(_app, "hefei", Roles.UnitStaff, PlayWorld.City);

        var csv = Encoding.UTF8.GetString(await staff.GetByteArrayAsync(Api("export", extra: "format=csv")));
        var xlsx = await staff.GetByteArrayAsync(Api("export", extra: "format=xlsx"));

        var fields = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Contains(fields, f => f[1] == "'" + Payload);
        Assert.Contains(fields, f => f[1] == "'-2+3");
        Assert.DoesNotContain(fields.SelectMany(f => f), cell => SpreadsheetCellsStart(cell));
        var names = MiniExcel.Query(new MemoryStream(xlsx), useHeaderRow: true).Cast<IDictionary<string, object>>().Select(r => (string)r["单位"]).ToList();
        Assert.Contains("'" + Payload, names);
        Assert.DoesNotContain(names, SpreadsheetCellsStart);
    }

    private static bool SpreadsheetCellsStart(string cell) => cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    [Fact]
    public async Task DashboardsArePushedAChangeAfterRoundsFinish()
    {
        using var staff = await Staff.LoginAsync(_app, "hefei", Roles.UnitStaff, PlayWorld.City);
        var cookies = new System.Net.CookieContainer();
        var login = await new HttpClient { BaseAddress = _app.ServerAddress }.PostAsJsonAsync("/api/accounts/login", new { name = "hefei", password = Staff.Password });
        foreach (var header in login.Headers.GetValues("Set-Cookie")) cookies.SetCookies(_app.ServerAddress, header);
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_app.ServerAddress, "/hubs/dashboard"), o => o.Cookies = cookies)
            .Build();
        var changed = new TaskCompletionSource<UnitsChanged>();
        hub.On<UnitsChanged>("UnitsChanged", c => changed.TrySetResult(c));
        await hub.StartAsync();
        (await staff.GetAsync(Api("units"))).EnsureSuccessStatusCode(); // the page shows the board: it is now watched

        await Staff.PlayRoundAsync(_app, PlayWorld.County);
        await Staff.FlushRankingsAsync(_app);

        Assert.Equal(PlayWorld.CampaignId, (await changed.Task.WaitAsync(TimeSpan.FromSeconds(10))).CampaignId);
    }

    [Fact]
    public async Task TheDashboardHubNeedsAStaffLogin()
    {
        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(_app.ServerAddress, "/hubs/dashboard")).Build();
        await Assert.ThrowsAnyAsync<Exception>(() => hub.StartAsync());
    }
}
