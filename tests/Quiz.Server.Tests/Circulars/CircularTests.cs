using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Validation;
using DocumentFormat.OpenXml.Wordprocessing;
using MiniExcelLibs;
using Quiz.Server.Dashboard;
using Quiz.Server.Play;
using Quiz.Server.Security;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Circulars;

/// <summary>
/// 安徽省 with two cities (合肥市: 瑶海区, 庐阳区; 芜湖市: 镜湖区, 弋江区), rounds played on
/// 12–15 June by people who come back on later days, so a period's new participants, its rounds
/// and the cumulative figures all differ. 芜湖's bases are small, so its rates show in two decimals
/// per 10,000. Played once; the tests only read.
/// </summary>
public sealed class CircularWorld : IAsyncLifetime
{
    public const string Wuhu = "340200", Jinghu = "340202", Yijiang = "340203";
    public QuizApplication App { get; } = new();
    public int RoundsPlayed { get; private set; }

    public async Task InitializeAsync()
    {
        await PlayWorld.SeedAsync(App);
        var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes("""
            code,name,parent_code,level,headcount_base
            340200,芜湖市,340000,city,30000
            340202,镜湖区,340200,county,4000
            340203,弋江区,340200,county,3000
            """), ".csv");
        Assert.True((await App.Service<UnitImport>().ImportAsync([(regions, "regions.csv")])).Ok);
        File.Delete(regions);

        var a = await Register(PlayWorld.County);
        var b = await Register(PlayWorld.OtherCounty);
        var c = await Register(Jinghu);
        // 12 June
        await Play(a); await Play(b); await Play(b); await Play(c);
        App.Clock.Advance(TimeSpan.FromDays(1)); // 13 June
        var d = await Register(Jinghu);
        var e = await Register(Yijiang);
        await Play(a); await Play(d); await Play(e);
        App.Clock.Advance(TimeSpan.FromDays(1)); // 14 June
        var f = await Register(PlayWorld.County);
        var g = await Register(Yijiang);
        await Play(a); await Play(f); await Play(g); await Play(g);
        App.Clock.Advance(TimeSpan.FromDays(1)); // 15 June
        var h = await Register(Jinghu);
        await Play(b); await Play(h); await Play(c); await Play(h);
        await Staff.FlushRankingsAsync(App);

        // The projections are eventual: wait until the province's row holds every round.
        var database = App.Service<Database>();
        var projected = await Eventually.ReadAsync(async () =>
        {
            await using var connection = await database.OpenAsync();
            return await connection.ExecuteScalarAsync<long>(
                "SELECT COALESCE(SUM(rounds), 0) FROM unit_daily_stats WHERE campaign_id = @c AND unit_code = @p",
                new { c = PlayWorld.CampaignId, p = PlayWorld.Province });
        }, n => n == RoundsPlayed, TimeSpan.FromSeconds(30));
        Assert.Equal(RoundsPlayed, projected);
    }

    private async Task<long> Register(string region) =>
        (await PlayWorld.RegisterAsync(App, region: region, organisation: null)).Participant.ParticipantId;

    /// <summary>A round answered with choices that vary by person and question, so categories come out right and wrong unevenly.</summary>
    private async Task Play(long participant)
    {
        var rounds = App.Service<RoundService>();
        var round = await rounds.StartAsync(participant, new StartRoundRequest(PlayWorld.CampaignId));
        for (var i = 0; i < round.Questions.Count; i++)
            if ((i + participant) % 4 != 3) // now and then a question left unanswered
                await rounds.AnswerAsync(participant, new AnswerRequest(round.RoundId, i, [(int)((i * 7 + participant) % 2)]));
        await rounds.FinishAsync(participant, new FinishRequest(round.RoundId));
        RoundsPlayed++;
    }

    public Task DisposeAsync()
    {
        App.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class CircularTests(CircularWorld world) : IClassFixture<CircularWorld>
{
    private const string Docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

    private static string Url(string? unit, string? from, string? to, string? format = null, string campaign = PlayWorld.CampaignId) =>
        $"/api/dashboard/{campaign}/circular?unit={unit}&from={from}&to={to}" + (format is null ? "" : $"&format={format}");

    [Theory]
    [InlineData(PlayWorld.Province, "2024-06-14", "2024-06-15")]
    [InlineData(PlayWorld.City, "2024-06-14", "2024-06-15")]
    [InlineData(PlayWorld.Province, "2024-06-13", "2024-06-13")]
    [InlineData(PlayWorld.Province, "2024-06-15", "2024-06-15")]
    [InlineData(CircularWorld.Wuhu, "2024-06-12", "2024-06-14")]
    public async Task EveryNumberInTheCircularIsTheStoresOwn(string unit, string from, string to)
    {
        using var admin = await Staff.LoginAsync(world.App, "root-" + Guid.NewGuid().ToString("N")[..8], Roles.Admin);
        using var response = await admin.GetAsync(Url(unit, from, to));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(Docx, response.Content.Headers.ContentType?.MediaType);
        var expected = await ExpectedAsync(unit, DateOnly.Parse(from, CultureInfo.InvariantCulture), DateOnly.Parse(to, CultureInfo.InvariantCulture));

        using var stream = new MemoryStream(await response.Content.ReadAsByteArrayAsync());
        using var document = WordprocessingDocument.Open(stream, false);
        Assert.Empty(new OpenXmlValidator().Validate(document).Select(e => $"{e.Path?.XPath}: {e.Description}"));

        var body = document.MainDocumentPart!.Document!.Body!;
        var paragraphs = body.Elements<Paragraph>().ToList();
        Assert.Equal("关于测试赛活动参与情况的通报", paragraphs[0].InnerText);
        Assert.Equal("Title", paragraphs[0].ParagraphProperties?.ParagraphStyleId?.Val?.Value);
        Assert.Equal(["一、总体情况", "二、各地参与情况", "三、参与趋势", "四、薄弱知识点", "五、下一步工作要求"],
            paragraphs.Where(p => p.ParagraphProperties?.ParagraphStyleId?.Val?.Value == "Heading1").Select(p => p.InnerText));

        var tables = body.Elements<Table>().Select(t => t.Elements<TableRow>().Select(r => r.Elements<TableCell>().Select(c => c.InnerText).ToArray()).ToList()).ToList();
        Assert.Equal(expected.WeakCategories.Count > 0 ? 3 : 2, tables.Count);
        Assert.Equal(["指标", "本期", "上期", "增减"], tables[0][0]);
        Assert.Equal(expected.Totals, tables[0].Skip(1));
        Assert.Equal(["排名", "单位", "累计参与人数", "参与率（每万人）", "较上期", "新增参与人数", "答题次数", "平均分"], tables[1][0]);
        Assert.Equal(expected.Ranking, tables[1].Skip(1));
        if (expected.WeakCategories.Count > 0) Assert.Equal(expected.WeakCategories, tables[2].Skip(1));

        // The numbers in the running text: each one is a figure of the tables (or the size of a
        // change, which the text words as 增加/减少), once the dates are taken out.
        var text = string.Join("\n", paragraphs.Select(p => p.InnerText));
        var allowed = expected.Totals.Concat(expected.Ranking).Concat(expected.WeakCategories).SelectMany(r => r).Select(v => v.TrimStart('+', '-', '<')).ToHashSet();
        foreach (Match number in Regex.Matches(Regex.Replace(text, @"(\d{4}年)?\d{1,2}月\d{1,2}日", ""), @"\d+(\.\d+)?"))
            Assert.True(allowed.Contains(number.Value), $"'{number.Value}' in the text is no figure of the circular: {text}");

        // The leading and the lagging units named, in ranking order.
        var names = expected.Ranking.Select(r => r[1]).ToList();
        var k = Math.Min(3, names.Count / 2);
        Assert.Contains($"位居前列的是{string.Join("、", names.Take(k).Select(n => n + "（每万人" + expected.Ranking.First(r => r[1] == n)[3] + "人）"))}；", text);
        Assert.Contains($"排名靠后的是{string.Join("、", names.TakeLast(k).Select(n => n + "（每万人" + expected.Ranking.First(r => r[1] == n)[3] + "人）"))}。", text);
        foreach (var category in expected.WeakCategories) Assert.Contains(category[0] + "（正确率" + category[3] + "%）", text);

        // The trend chart: one PNG picture, drawn for the days up to the period's end.
        var image = Assert.Single(document.MainDocumentPart.ImageParts);
        Assert.Equal("image/png", image.ContentType);
        using var png = image.GetStream();
        var head = new byte[24];
        png.ReadExactly(head);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(head, 12, 4));
        Assert.Single(body.Descendants<DocumentFormat.OpenXml.Drawing.Blip>(), b => b.Embed == document.MainDocumentPart.GetIdOfPart(image));
    }

    [Fact]
    public async Task TheAnnexHoldsTheWholeTable()
    {
        using var admin = await Staff.LoginAsync(world.App, "annex", Roles.Admin);
        using var response = await admin.GetAsync(Url(PlayWorld.Province, "2024-06-14", "2024-06-15", "xlsx"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var expected = await ExpectedAsync(PlayWorld.Province, new DateOnly(2024, 6, 14), new DateOnly(2024, 6, 15));

        using var stream = new MemoryStream(await response.Content.ReadAsByteArrayAsync());
        var rows = stream.Query(useHeaderRow: true).Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(expected.Ranking.Count, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var want = expected.Ranking[i];
            Assert.Equal(want[0], Convert.ToString(rows[i]["排名"], CultureInfo.InvariantCulture));
            Assert.Equal(want[1], rows[i]["单位"]);
            Assert.Equal(want[2], Convert.ToString(rows[i]["累计参与人数"], CultureInfo.InvariantCulture));
            Assert.Equal(expected.RankingRates[i], Convert.ToDecimal(rows[i]["参与率（每万人）"], CultureInfo.InvariantCulture)); // a number, as the export writes it
            Assert.Equal(want[5], Convert.ToString(rows[i]["新增参与人数"], CultureInfo.InvariantCulture));
            Assert.Equal(want[6], Convert.ToString(rows[i]["答题次数"], CultureInfo.InvariantCulture));
            Assert.Equal(want[7], Convert.ToDecimal(rows[i]["平均分"], CultureInfo.InvariantCulture).ToString("0.00", CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task ACircularEndingTodayAgreesWithTheDashboard()
    {
        using var admin = await Staff.LoginAsync(world.App, "agree", Roles.Admin);
        var view = await admin.GetFromJsonAsync<DashboardService.UnitsView>($"/api/dashboard/{PlayWorld.CampaignId}/units?unit={PlayWorld.Province}");
        using var response = await admin.GetAsync(Url(PlayWorld.Province, "2024-06-12", "2024-06-15"));
        using var document = WordprocessingDocument.Open(new MemoryStream(await response.Content.ReadAsByteArrayAsync()), false);
        var ranking = document.MainDocumentPart!.Document!.Body!.Elements<Table>().ElementAt(1).Elements<TableRow>().Skip(1)
            .Select(r => r.Elements<TableCell>().Select(c => c.InnerText).ToArray()).ToDictionary(r => r[1]);

        Assert.Equal(2, view!.Children.Count);
        foreach (var child in view.Children)
        {
            Assert.Equal(child.Participants.ToString(CultureInfo.InvariantCulture), ranking[child.Name][2]);
            var shown = child.ParticipationRate * 10_000 is > 0 and < 0.01 ? "<0.01" : child.PerTenThousand.ToString("0.00", CultureInfo.InvariantCulture); // as the page shows it
            Assert.Equal(shown, ranking[child.Name][3]);
            Assert.Equal(Math.Round((decimal)child.AveragePoints, 2).ToString("0.00", CultureInfo.InvariantCulture), ranking[child.Name][7]);
        }
    }

    [Fact]
    public async Task UnitStaffGetTheirOwnSubtreesCircularsOnly()
    {
        using var hefei = await Staff.LoginAsync(world.App, "hefei-office", Roles.UnitStaff, PlayWorld.City);
        using var wuhu = await Staff.LoginAsync(world.App, "wuhu-office", Roles.UnitStaff, CircularWorld.Wuhu);
        using var anonymous = world.App.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await hefei.GetAsync(Url(PlayWorld.City, "2024-06-12", "2024-06-15"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await hefei.GetAsync(Url(null, "2024-06-12", "2024-06-15", "xlsx"))).StatusCode); // their own unit by default
        Assert.Equal(HttpStatusCode.OK, (await wuhu.GetAsync(Url(CircularWorld.Wuhu, "2024-06-12", "2024-06-15"))).StatusCode);
        foreach (var format in new[] { "docx", "xlsx" })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync(Url(CircularWorld.Wuhu, "2024-06-12", "2024-06-15", format))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await wuhu.GetAsync(Url(PlayWorld.City, "2024-06-12", "2024-06-15", format))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync(Url(PlayWorld.Province, "2024-06-12", "2024-06-15", format))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Url(PlayWorld.City, "2024-06-12", "2024-06-15", format))).StatusCode);
        }
    }

    [Fact]
    public async Task BadInputGetsAClearProblemAndChangesNothing()
    {
        using var admin = await Staff.LoginAsync(world.App, "bad-input", Roles.Admin);
        var before = await FingerprintAsync();
        var cases = new (string Url, HttpStatusCode Status, string Title)[]
        {
            (Url("999999", "2024-06-12", "2024-06-15"), HttpStatusCode.NotFound, "Unknown unit"),
            (Url(PlayWorld.Province, "2024-06-12", "2024-06-15", campaign: "no-such-campaign"), HttpStatusCode.NotFound, "Unknown campaign"),
            (Url(PlayWorld.Province, "2024-06-15", "2024-06-14"), HttpStatusCode.BadRequest, "Period ends before it starts"),
            (Url(PlayWorld.Province, "2024-06-01", "2024-06-30"), HttpStatusCode.BadRequest, "Period longer than the campaign"),
            (Url(PlayWorld.Province, "2024-06-20", "2024-06-25"), HttpStatusCode.BadRequest, "Period outside the campaign"),
            (Url(PlayWorld.Province, "2024-06-15", "2024-06-16"), HttpStatusCode.BadRequest, "Period not over yet"), // the clock is on 15 June
            (Url(PlayWorld.Province, null, "2024-06-15"), HttpStatusCode.BadRequest, "Name the period"),
            (Url(PlayWorld.Province, "2024-06-12", "2024-6-32"), HttpStatusCode.BadRequest, "Name the period"),
            ($"/api/dashboard/{PlayWorld.CampaignId}/circular?unit={PlayWorld.Province}", HttpStatusCode.BadRequest, "Name the period"),
            (Url(PlayWorld.County, "2024-06-12", "2024-06-15"), HttpStatusCode.BadRequest, "Not a province or city"),
            (Url(PlayWorld.Bank, "2024-06-12", "2024-06-15"), HttpStatusCode.BadRequest, "Not a province or city"),
            (Url(PlayWorld.Province, "2024-06-12", "2024-06-15", "pdf"), HttpStatusCode.BadRequest, "Unknown format"),
            (Url(null, "2024-06-12", "2024-06-15"), HttpStatusCode.BadRequest, "Name a unit"), // an admin has no unit of their own
        };
        foreach (var (url, status, title) in cases)
        {
            using var response = await admin.GetAsync(url);
            Assert.True(response.StatusCode == status, $"{url}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
            Assert.Equal(title, problem!.Title);
            Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        }
        Assert.Equal(before, await FingerprintAsync());
    }

    /// <summary>Every table's row count, and the projection's sums: what a request that writes would change.</summary>
    private async Task<string> FingerprintAsync()
    {
        await using var connection = await world.App.Service<Database>().OpenAsync();
        var counts = new List<string>();
        foreach (var table in new[] { "regions", "organisations", "campaigns", "participants", "rounds", "results", "answers", "unit_daily_stats", "question_stats", "projection_applied" })
            counts.Add($"{table}={await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}")}");
        counts.Add("sums=" + await connection.ExecuteScalarAsync<string>(
            "SELECT CAST(COALESCE(SUM(participants + rounds + points + new_participants), 0) AS TEXT) FROM unit_daily_stats"));
        return string.Join(", ", counts);
    }

    // ---- the figures recomputed from the store's own rows (results, participants, answers) ----

    private sealed record Expected(List<string[]> Totals, List<string[]> Ranking, List<decimal> RankingRates, List<string[]> WeakCategories);

    private sealed record Standing(string Name, long Base, long Participants, long PreviousParticipants, long New, long PreviousNew,
        long Rounds, long PreviousRounds, long Points, long PreviousPoints);

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
    private static string D(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
    private static string Signed(long value) => value > 0 ? "+" + N(value) : N(value);
    private static string Signed(decimal value) => value > 0 ? "+" + D(value) : D(value);
    private static decimal PerTenThousand(long participants, long headcount) => headcount == 0 ? 0 : Math.Round(participants * 10_000m / headcount, 2);

    /// <summary>As the dashboard page shows a rate: a few people in a large base are "&lt;0.01", never a 0.00 that reads as nobody.</summary>
    private static string Rate(long participants, long headcount) =>
        participants > 0 && participants * 10_000m / headcount < 0.01m ? "<0.01" : D(PerTenThousand(participants, headcount));

    /// <summary>The change of the exact rate since the previous period's end, shown the same way.</summary>
    private static string RateChange(long now, long before, long headcount)
    {
        var change = (now - before) * 10_000m / headcount;
        return change is > 0 and < 0.01m ? "+<0.01" : change is < 0 and > -0.01m ? "-<0.01" : Signed(Math.Round(change, 2));
    }
    private static decimal Average(long points, long participants) => participants == 0 ? 0 : Math.Round((decimal)points / participants, 2);

    private async Task<Expected> ExpectedAsync(string unit, DateOnly from, DateOnly to)
    {
        var length = to.DayNumber - from.DayNumber + 1;
        DateOnly previousFrom = from.AddDays(-length), previousTo = from.AddDays(-1);
        await using var connection = await world.App.Service<Database>().OpenAsync();
        const string Tree = """
            WITH RECURSIVE tree(code) AS (
                SELECT code FROM regions WHERE code = @unit
                UNION ALL SELECT r.code FROM regions r JOIN tree t ON r.parent_code = t.code)
            """;
        async Task<long> Count(string unitCode, string what, DateOnly? first, DateOnly last) =>
            await connection.ExecuteScalarAsync<long>($"""
                {Tree}
                SELECT CAST(COALESCE({what}, 0) AS BIGINT) FROM results x JOIN participants p ON p.id = x.participant_id
                WHERE x.campaign_id = @campaign AND p.region_code IN (SELECT code FROM tree)
                  AND x.day >= @first AND x.day <= @last
                """, new { unit = unitCode, campaign = PlayWorld.CampaignId, first = first?.ToString("yyyy-MM-dd") ?? "0000-00-00", last = last.ToString("yyyy-MM-dd") });

        async Task<Standing> StandingOf(string code)
        {
            var (name, headcount) = await connection.QuerySingleAsync<(string, long)>("SELECT name, headcount_base FROM regions WHERE code = @code", new { code });
            const string People = "COUNT(DISTINCT x.participant_id)", Rounds = "COUNT(*)", Points = "SUM(x.score)";
            var participants = await Count(code, People, null, to);
            var previous = await Count(code, People, null, previousTo);
            var beforePrevious = await Count(code, People, null, previousFrom.AddDays(-1));
            return new Standing(name, headcount, participants, previous, participants - previous, previous - beforePrevious,
                await Count(code, Rounds, from, to), await Count(code, Rounds, previousFrom, previousTo),
                await Count(code, Points, null, to), await Count(code, Points, null, previousTo));
        }

        var totals = await StandingOf(unit);
        var children = new List<(string Code, Standing S)>();
        foreach (var code in await connection.QueryAsync<string>("SELECT code FROM regions WHERE parent_code = @unit", new { unit }))
            children.Add((code, await StandingOf(code)));

        var totalsRows = new List<string[]>
        {
            new[] { "累计参与人数", N(totals.Participants), N(totals.PreviousParticipants), Signed(totals.Participants - totals.PreviousParticipants) },
            new[] { "新增参与人数", N(totals.New), N(totals.PreviousNew), Signed(totals.New - totals.PreviousNew) },
            new[] { "答题次数", N(totals.Rounds), N(totals.PreviousRounds), Signed(totals.Rounds - totals.PreviousRounds) },
            new[] { "参与率（每万人）", Rate(totals.Participants, totals.Base), Rate(totals.PreviousParticipants, totals.Base),
                RateChange(totals.Participants, totals.PreviousParticipants, totals.Base) },
            new[] { "平均分", D(Average(totals.Points, totals.Participants)), D(Average(totals.PreviousPoints, totals.PreviousParticipants)),
                Signed(Average(totals.Points, totals.Participants) - Average(totals.PreviousPoints, totals.PreviousParticipants)) },
        };
        var ordered = children
            .OrderByDescending(c => (decimal)c.S.Participants / c.S.Base).ThenByDescending(c => c.S.Participants).ThenBy(c => c.Code, StringComparer.Ordinal)
            .ToList();
        var ranking = ordered.Select((c, i) => new[]
            {
                N(i + 1), c.S.Name, N(c.S.Participants), Rate(c.S.Participants, c.S.Base),
                RateChange(c.S.Participants, c.S.PreviousParticipants, c.S.Base),
                N(c.S.New), N(c.S.Rounds), D(Average(c.S.Points, c.S.Participants)),
            }).ToList();

        var answered = (await connection.QueryAsync<(string Category, long Answered, long Correct)>($"""
            {Tree}
            SELECT q.category, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN a.correct = 1 THEN 1 ELSE 0 END) AS BIGINT)
            FROM answers a
            JOIN results x ON x.id = a.result_id
            JOIN participants p ON p.id = x.participant_id
            JOIN question_versions q ON q.question_id = a.question_id AND q.version = a.question_version
            WHERE x.campaign_id = @campaign AND p.region_code IN (SELECT code FROM tree) AND x.day >= @from AND x.day <= @to AND a.chosen <> ''
            GROUP BY q.category
            """, new { unit, campaign = PlayWorld.CampaignId, from = from.ToString("yyyy-MM-dd"), to = to.ToString("yyyy-MM-dd") })).ToList();
        // The sample bank's four categories, as a circular names them.
        var names = new Dictionary<string, string> { ["law"] = "法律法规", ["features"] = "非法集资特征", ["pension"] = "养老诈骗", ["protection"] = "防范与举报" };
        var weak = answered
            .OrderBy(c => (decimal)c.Correct / c.Answered).ThenByDescending(c => c.Answered).ThenBy(c => c.Category, StringComparer.Ordinal)
            .Take(3)
            .Select(c => new[] { names[c.Category], N(c.Answered), N(c.Correct), Math.Round(100m * c.Correct / c.Answered, 1).ToString("0.0", CultureInfo.InvariantCulture) })
            .ToList();
        return new Expected(totalsRows, ranking, ordered.Select(c => PerTenThousand(c.S.Participants, c.S.Base)).ToList(), weak);
    }
}
