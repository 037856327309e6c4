using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using MiniExcelLibs;
using Quiz.Server.Campaigns;
using Quiz.Server.Play;
using Quiz.Server.Security;
using Quiz.Server.Storage;
using Quiz.Server.Surveys;
using Quiz.Server.Tests.Infrastructure;
using Quiz.Server.Units;

namespace Quiz.Server.Tests.Surveys;

/// <summary>
/// <see cref="PlayWorld"/> with a survey on its campaign, a second campaign with a survey of its
/// own, and a second city (芜湖市, 镜湖区) whose staff must not read 合肥's figures. Tests add
/// their own participants and read figures back against SQL over the store, so they share it.
/// </summary>
public sealed class SurveyWorld : IAsyncLifetime
{
    public const string Wuhu = "340200", Jinghu = "340202";
    public const string OtherCampaign = "other-survey";
    public QuizApplication App { get; } = new();

    public static Survey Survey(string prefix = "") => new()
    {
        Title = "问卷调查", Intro = "可以跳过",
        Questions =
        [
            new SurveyQuestion
            {
                Id = prefix + "topics", Text = "您最想了解哪些骗局？", Kind = SurveyQuestionKind.Multiple,
                Options = [new("fundraising", "非法集资", "features"), new("pension", "养老诈骗", "pension"), new("telecom", "电信网络诈骗")],
            },
            new SurveyQuestion
            {
                Id = prefix + "format", Text = "您喜欢哪种学习方式？", Kind = SurveyQuestionKind.Single,
                Options = [new("video", "视频"), new("opera", "戏曲和地方戏"), new("lecture", "讲座")],
            },
            new SurveyQuestion { Id = prefix + "wishes", Text = "您还想了解什么？", Kind = SurveyQuestionKind.Text, Required = false },
        ],
    };

    public async Task InitializeAsync()
    {
        await PlayWorld.SeedAsync(App, PlayWorld.Campaign() with { Survey = Survey() });
        var regions = SampleQuestions.WriteTemp(Encoding.UTF8.GetBytes("""
            code,name,parent_code,level,headcount_base
            340200,芜湖市,340000,city,30000
            340202,镜湖区,340200,county,4000
            """), ".csv");
        Assert.True((await App.Service<UnitImport>().ImportAsync([(regions, "regions.csv")])).Ok);
        File.Delete(regions);
        await App.Service<CampaignCatalog>().SaveAsync(PlayWorld.Campaign() with { Id = OtherCampaign, Name = "另一场", Survey = Survey("other-") });
    }

    public Task DisposeAsync()
    {
        App.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class SurveyTests(SurveyWorld world) : IClassFixture<SurveyWorld>
{
    private QuizApplication App => world.App;

    private sealed record Person(long Id, HttpClient Client) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    private async Task<Person> RegisterAsync(string region = PlayWorld.County, string? organisation = null)
    {
        var registered = await PlayWorld.RegisterAsync(App, region: region, organisation: organisation);
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registered.Token);
        return new Person(registered.Participant.ParticipantId, client);
    }

    private async Task PlayAsync(Person person, string campaign = PlayWorld.CampaignId)
    {
        var rounds = App.Service<RoundService>();
        var round = await rounds.StartAsync(person.Id, new StartRoundRequest(campaign));
        for (var i = 0; i < round.Questions.Count; i++) await rounds.AnswerAsync(person.Id, new AnswerRequest(round.RoundId, i, [i % 2]));
        await rounds.FinishAsync(person.Id, new FinishRequest(round.RoundId));
    }

    private async Task<Person> PlayerAsync(string region = PlayWorld.County, string? organisation = null)
    {
        var person = await RegisterAsync(region, organisation);
        await PlayAsync(person);
        return person;
    }

    private static object Reply(int version, string[] topics, string format = "video", string? wishes = null, string prefix = "") => new
    {
        version,
        answers = new object[]
        {
            new { question = prefix + "topics", options = topics },
            new { question = prefix + "format", options = new[] { format } },
            new { question = prefix + "wishes", text = wishes },
        },
    };

    private static async Task<SurveysApi.SurveyView> ViewAsync(Person person, string campaign = PlayWorld.CampaignId) =>
        (await person.Client.GetFromJsonAsync<SurveysApi.SurveyView>($"/api/campaigns/{campaign}/survey"))!;

    /// <summary>Every row of the survey tables: what "nothing half-written" is checked against.</summary>
    private async Task<string> StoreAsync()
    {
        await using var connection = await App.Service<Database>().OpenAsync();
        var rows = new List<string>();
        rows.AddRange((await connection.QueryAsync<(string, long, long)>("SELECT campaign_id, participant_id, version FROM survey_responses ORDER BY 1, 2")).Select(r => r.ToString()));
        rows.AddRange((await connection.QueryAsync<(string, long, string, string)>("SELECT campaign_id, participant_id, question_id, option_id FROM survey_choices ORDER BY 1, 2, 3, 4")).Select(r => r.ToString()));
        rows.AddRange((await connection.QueryAsync<(string, long, string, string)>("SELECT campaign_id, participant_id, question_id, text FROM survey_texts ORDER BY 1, 2, 3")).Select(r => r.ToString()));
        return string.Join("\n", rows);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task ACitysCircularSaysWhatItsPeopleAskedForAndEveryCountIsTheStores()
    {
        foreach (var (region, topics, format) in new[]
                 {
                     (PlayWorld.County, new[] { "fundraising", "pension" }, "opera"), (PlayWorld.County, ["pension"], "opera"),
                     (SurveyWorld.Jinghu, ["telecom"], "video"), (SurveyWorld.Jinghu, ["fundraising"], "opera"),
                 })
        {
            using var person = await PlayerAsync(region);
            using var answered = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey",
                Reply((await ViewAsync(person)).Version, topics, format));
            Assert.True(answered.IsSuccessStatusCode, await answered.Content.ReadAsStringAsync());
        }
        using var admin = await Staff.LoginAsync(App, "circular-survey", Roles.Admin);
        var today = PlayWorld.Campaign().DayOf(App.Clock.GetUtcNow()).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        using var response = await admin.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/circular?unit={PlayWorld.City}&from=2024-06-12&to={today}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        using var stream = new MemoryStream(await response.Content.ReadAsByteArrayAsync());
        using var document = DocumentFormat.OpenXml.Packaging.WordprocessingDocument.Open(stream, false);
        Assert.Empty(new DocumentFormat.OpenXml.Validation.OpenXmlValidator().Validate(document).Select(e => e.Description));
        var body = document.MainDocumentPart!.Document!.Body!;
        var headings = body.Elements<DocumentFormat.OpenXml.Wordprocessing.Paragraph>()
            .Where(p => p.ParagraphProperties?.ParagraphStyleId?.Val?.Value == "Heading1").Select(p => p.InnerText).ToList();
        Assert.Equal(["一、总体情况", "二、各地参与情况", "三、参与趋势", "四、薄弱知识点", "五、群众需求（问卷调查）", "六、下一步工作要求"], headings);
        var tables = body.Elements<DocumentFormat.OpenXml.Wordprocessing.Table>()
            .Select(t => t.Elements<DocumentFormat.OpenXml.Wordprocessing.TableRow>().Select(r => r.Elements<DocumentFormat.OpenXml.Wordprocessing.TableCell>().Select(c => c.InnerText).ToArray()).ToList())
            .Where(t => t[0].SequenceEqual(["选项", "选择人数", "占填写人数（%）"])).ToList();

        // The store's own counts: 合肥's people (its region codes start 3401; 芜湖's replies stay out), replies up to the period's end.
        await using var connection = await App.Service<Database>().OpenAsync();
        var end = new DateTimeOffset(DateOnly.Parse(today, CultureInfo.InvariantCulture).AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(8)).ToUniversalTime().ToString("O");
        var version = App.Service<CampaignCatalog>().Get(PlayWorld.CampaignId)!.Survey!.Version;
        var respondents = await connection.ExecuteScalarAsync<long>("""
            SELECT COUNT(*) FROM survey_responses r JOIN participants p ON p.id = r.participant_id
            WHERE r.campaign_id = @campaign AND r.version = @version AND p.region_code LIKE '3401%' AND r.answered_at < @end
            """, new { campaign = PlayWorld.CampaignId, version, end });
        Assert.True(respondents >= 2);
        var text = string.Join("\n", body.Elements<DocumentFormat.OpenXml.Wordprocessing.Paragraph>().Select(p => p.InnerText));
        Assert.Contains($"共有{respondents}人填写“问卷调查”问卷", text);
        var choiceQuestions = SurveyWorld.Survey().Questions.Where(q => q.Kind != SurveyQuestionKind.Text).ToList();
        Assert.Equal(choiceQuestions.Count, tables.Count);
        foreach (var (question, table) in choiceQuestions.Zip(tables))
        {
            var expected = new List<string[]>();
            foreach (var option in question.Options)
            {
                var count = await connection.ExecuteScalarAsync<long>("""
                    SELECT COUNT(*) FROM survey_choices c
                    JOIN survey_responses r ON r.campaign_id = c.campaign_id AND r.participant_id = c.participant_id
                    JOIN participants p ON p.id = r.participant_id
                    WHERE c.campaign_id = @campaign AND r.version = @version AND c.question_id = @question AND c.option_id = @option
                      AND p.region_code LIKE '3401%' AND r.answered_at < @end
                    """, new { campaign = PlayWorld.CampaignId, version, question = question.Id, option = option.Id, end });
                expected.Add([option.Text, count.ToString(CultureInfo.InvariantCulture), (100m * count / respondents).ToString("0.0", CultureInfo.InvariantCulture)]);
            }
            Assert.Equal(expected, table.Skip(1));
        }
    }

    [Fact]
    public async Task TheSurveyIsOfferedAfterTheDaysFirstRoundAndAnsweredOnce()
    {
        using var person = await RegisterAsync();
        var before = await ViewAsync(person);
        Assert.False(before.Offer);
        Assert.Null(before.Answered);
        Assert.Equal(3, before.Questions.Count);
        Assert.Equal(new DateOnly(2024, 6, 12), before.Day);

        await PlayAsync(person);
        var after = await ViewAsync(person);
        Assert.True(after.Offer);

        using var answered = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey",
            Reply(after.Version, ["fundraising", "pension"], "opera", "  想了解养老骗局  "));
        Assert.True(answered.IsSuccessStatusCode, await answered.Content.ReadAsStringAsync());

        await using (var connection = await App.Service<Database>().OpenAsync())
        {
            Assert.Equal(["fundraising", "pension"], await connection.QueryAsync<string>(
                "SELECT option_id FROM survey_choices WHERE participant_id = @Id AND question_id = 'topics' ORDER BY option_id", person));
            Assert.Equal("想了解养老骗局", await connection.ExecuteScalarAsync<string>("SELECT text FROM survey_texts WHERE participant_id = @Id", person));
        }
        var done = await ViewAsync(person);
        Assert.Equal(after.Version, done.Answered);
        Assert.False(done.Offer);

        var store = await StoreAsync();
        using var again = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply(after.Version, ["telecom"]));
        Assert.Equal("already-answered", (await ProblemAsync(again, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(store, await StoreAsync());
    }

    [Fact]
    public async Task TwoRepliesSentAtOnceCountOnce()
    {
        using var person = await PlayerAsync();
        var version = (await ViewAsync(person)).Version;
        var replies = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply(version, ["pension"]))));
        Assert.Single(replies, r => r.IsSuccessStatusCode);
        Assert.All(replies.Where(r => !r.IsSuccessStatusCode), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        await using var connection = await App.Service<Database>().OpenAsync();
        Assert.Equal(["format/video", "topics/pension"], await connection.QueryAsync<string>("SELECT question_id || '/' || option_id FROM survey_choices WHERE participant_id = @Id ORDER BY 1", person));
    }

    public static TheoryData<string, string, string> BadReplies => new()
    {
        // name, reply (version filled in for {v}), what the problem names
        { "another campaign's questions", """{"version":{v},"answers":[{"question":"other-topics","options":["fundraising"]},{"question":"other-format","options":["video"]}]}""", "answers[other-topics]" },
        { "a 10,000-character text", """{"version":{v},"answers":[{"question":"topics","options":["pension"]},{"question":"format","options":["video"]},{"question":"wishes","text":"{long}"}]}""", "answers[wishes]" },
        { "an option that does not exist", """{"version":{v},"answers":[{"question":"topics","options":["pension","lottery"]},{"question":"format","options":["video"]}]}""", "answers[topics]" },
        { "two options on a single choice", """{"version":{v},"answers":[{"question":"topics","options":["pension"]},{"question":"format","options":["video","opera"]}]}""", "answers[format]" },
        { "a required question left out", """{"version":{v},"answers":[{"question":"topics","options":["pension"]}]}""", "answers[format]" },
        { "a question answered twice", """{"version":{v},"answers":[{"question":"topics","options":["pension"]},{"question":"topics","options":["telecom"]},{"question":"format","options":["video"]}]}""", "answers[topics]" },
        { "a blocked word in the text", """{"version":{v},"answers":[{"question":"topics","options":["pension"]},{"question":"format","options":["video"]},{"question":"wishes","text":"我是官方客服"}]}""", "answers[wishes]" },
        { "an invisible character in the text", """{"version":{v},"answers":[{"question":"topics","options":["pension"]},{"question":"format","options":["video"]},{"question":"wishes","text":"abc\u202Edef"}]}""", "answers[wishes]" },
        { "a text for a choice question", """{"version":{v},"answers":[{"question":"topics","text":"养老"},{"question":"format","options":["video"]}]}""", "answers[topics]" },
    };

    [Theory]
    [MemberData(nameof(BadReplies))]
    public async Task ABadReplyIsRefusedByNameAndWritesNothing(string name, string reply, string field)
    {
        using var person = await PlayerAsync();
        var version = (await ViewAsync(person)).Version;
        var store = await StoreAsync();
        using var content = new StringContent(reply.Replace("{v}", version.ToString(CultureInfo.InvariantCulture)).Replace("{long}", new string('骗', 10_000)),
            Encoding.UTF8, "application/json");
        using var response = await person.Client.PostAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", content);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{name}: {problem}");
        Assert.Equal(store, await StoreAsync());
        Assert.False((await ViewAsync(person)).Answered.HasValue, name);
    }

    [Fact]
    public async Task ALongTextIsRefusedWithItsLength()
    {
        using var person = await PlayerAsync();
        var version = (await ViewAsync(person)).Version;
        using var response = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply(version, ["pension"], wishes: new string('a', 101)));
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("at most 100 characters", problem.GetProperty("errors").GetProperty("answers[wishes]")[0].GetString());
    }

    [Fact]
    public async Task ARepliesWithoutARoundOrForAnotherCampaignAreRefused()
    {
        using var newcomer = await RegisterAsync();
        var store = await StoreAsync();
        using var early = await newcomer.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply((await ViewAsync(newcomer)).Version, ["pension"]));
        Assert.Equal("no-round", (await ProblemAsync(early, HttpStatusCode.Conflict)).GetProperty("code").GetString());

        // Played test-june only: the other campaign's survey is not theirs to answer.
        await PlayAsync(newcomer);
        var other = await ViewAsync(newcomer, SurveyWorld.OtherCampaign);
        Assert.False(other.Offer);
        using var elsewhere = await newcomer.Client.PostAsJsonAsync($"/api/campaigns/{SurveyWorld.OtherCampaign}/survey", Reply(other.Version, ["pension"], prefix: "other-"));
        Assert.Equal("no-round", (await ProblemAsync(elsewhere, HttpStatusCode.Conflict)).GetProperty("code").GetString());

        using var unknown = await newcomer.Client.PostAsJsonAsync("/api/campaigns/no-such-campaign/survey", Reply(1, ["pension"]));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(store, await StoreAsync());
    }

    [Fact]
    public async Task AnEditAfterAnswersMakesANewVersionAndOldAnswersStayWithTheirs()
    {
        const string id = "survey-versions";
        using var admin = App.CreateAdminClient();
        async Task<Campaign> PutAsync(Survey survey)
        {
            var definition = JsonSerializer.Serialize(PlayWorld.Campaign() with { Id = id, Name = "改版", Survey = survey }, Campaign.Json);
            using var response = await admin.PutAsync($"/api/admin/campaigns/{id}", new StringContent(definition, Encoding.UTF8, "application/json"));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return JsonSerializer.Deserialize<Campaign>(await response.Content.ReadAsStringAsync(), Campaign.Json)!;
        }

        var first = await PutAsync(SurveyWorld.Survey());
        Assert.Equal(1, first.Survey!.Version);
        Assert.Equal(1, (await PutAsync(SurveyWorld.Survey() with { Version = 7 })).Survey!.Version); // the same questions: the same version, whatever was sent

        using var early = await RegisterAsync();
        await PlayAsync(early, id);
        using (var reply = await early.Client.PostAsJsonAsync($"/api/campaigns/{id}/survey", Reply(1, ["pension", "telecom"])))
            Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());

        using var late = await RegisterAsync();
        await PlayAsync(late, id);
        Assert.Equal(1, (await ViewAsync(late, id)).Version);

        var edited = SurveyWorld.Survey() with { Questions = [.. SurveyWorld.Survey().Questions.Take(2), new SurveyQuestion { Id = "age", Text = "您的年龄段", Options = [new("young", "60岁以下"), new("old", "60岁及以上")] }] };
        Assert.Equal(2, (await PutAsync(edited)).Survey!.Version);

        // The page still shows version 1: its reply is refused and nothing is written.
        var store = await StoreAsync();
        using (var stale = await late.Client.PostAsJsonAsync($"/api/campaigns/{id}/survey", Reply(1, ["pension"])))
            Assert.Equal("survey-changed", (await ProblemAsync(stale, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(store, await StoreAsync());

        var now = await ViewAsync(late, id);
        Assert.Equal(2, now.Version);
        Assert.Equal("age", now.Questions[2].Id);
        using (var reply = await late.Client.PostAsJsonAsync($"/api/campaigns/{id}/survey", new
        {
            version = 2,
            answers = new object[] { new { question = "topics", options = new[] { "pension" } }, new { question = "format", options = new[] { "lecture" } }, new { question = "age", options = new[] { "old" } } },
        }))
            Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());

        await using var connection = await App.Service<Database>().OpenAsync();
        Assert.Equal([(early.Id, 1L), (late.Id, 2L)], await connection.QueryAsync<(long, long)>(
            "SELECT participant_id, version FROM survey_responses WHERE campaign_id = @id ORDER BY version", new { id }));

        // Each version's results keep its own questions and answers.
        using var staff = await Staff.LoginAsync(App, "versions", Roles.Admin);
        var v1 = (await staff.GetFromJsonAsync<SurveysApi.SurveyResults>($"/api/dashboard/{id}/survey?version=1"))!;
        var v2 = (await staff.GetFromJsonAsync<SurveysApi.SurveyResults>($"/api/dashboard/{id}/survey"))!;
        Assert.Equal([1, 2], v2.Versions);
        Assert.Equal((1, 1L), (v1.Version, v1.Respondents));
        Assert.Equal((2, 1L), (v2.Version, v2.Respondents));
        Assert.Equal("wishes", v1.Questions[2].Id);
        Assert.Equal(1, v1.Questions[0].Options.Single(o => o.Id == "telecom").Count);
        Assert.Equal(0, v2.Questions[0].Options.Single(o => o.Id == "telecom").Count);
        Assert.Equal(1, v2.Questions[2].Options.Single(o => o.Id == "old").Count);
    }

    [Fact]
    public async Task StaffSeeTheirUnitAndItsChildrenCountedAsTheStoreHasThem()
    {
        foreach (var (region, topics) in new[] { (PlayWorld.County, new[] { "pension" }), (PlayWorld.OtherCounty, new[] { "pension", "fundraising" }), (SurveyWorld.Jinghu, new[] { "telecom" }) })
        {
            using var person = await PlayerAsync(region);
            using var reply = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply((await ViewAsync(person)).Version, topics, "lecture"));
            Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());
        }

        using var hefei = await Staff.LoginAsync(App, "hefei-survey", Roles.UnitStaff, PlayWorld.City);
        var city = (await hefei.GetFromJsonAsync<SurveysApi.SurveyResults>($"/api/dashboard/{PlayWorld.CampaignId}/survey"))!;
        Assert.Equal(PlayWorld.City, city.Unit);
        Assert.Equal(await CountAsync("p.region_code IN ('340100', '340102', '340103')"), city.Respondents);
        foreach (var option in city.Questions[0].Options)
            Assert.Equal(await CountAsync($"p.region_code IN ('340100', '340102', '340103')", "topics", option.Id), option.Count);
        Assert.Equal([PlayWorld.County, PlayWorld.OtherCounty], city.Children.Select(c => c.Code).Order());
        foreach (var child in city.Children)
        {
            Assert.Equal(await CountAsync($"p.region_code = '{child.Code}'"), child.Respondents);
            Assert.Equal(await CountAsync($"p.region_code = '{child.Code}'", "topics", "pension"), child.Counts["topics"]["pension"]);
            Assert.Equal(await CountAsync($"p.region_code = '{child.Code}'", "format", "lecture"), child.Counts["format"]["lecture"]);
        }
        Assert.True(city.Questions[0].Options.Single(o => o.Id == "pension").Count >= 2);

        // Not a sibling city's, nor the province above.
        foreach (var unit in new[] { SurveyWorld.Wuhu, SurveyWorld.Jinghu, PlayWorld.Province })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/survey?unit={unit}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/survey/export?unit={unit}&format=csv")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await hefei.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/demand?unit={unit}")).StatusCode);
        }
        using var wuhu = await Staff.LoginAsync(App, "wuhu-survey", Roles.UnitStaff, SurveyWorld.Wuhu);
        Assert.Equal(HttpStatusCode.Forbidden, (await wuhu.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/survey?unit={PlayWorld.City}")).StatusCode);
        var own = (await wuhu.GetFromJsonAsync<SurveysApi.SurveyResults>($"/api/dashboard/{PlayWorld.CampaignId}/survey"))!;
        Assert.Equal(await CountAsync("p.region_code IN ('340200', '340202')"), own.Respondents);

        // The province (an admin) sums its cities.
        using var admin = await Staff.LoginAsync(App, "province-survey", Roles.Admin);
        var province = (await admin.GetFromJsonAsync<SurveysApi.SurveyResults>($"/api/dashboard/{PlayWorld.CampaignId}/survey?unit={PlayWorld.Province}"))!;
        Assert.Equal(province.Respondents, province.Children.Sum(c => c.Respondents));
        Assert.Equal(city.Respondents, province.Children.Single(c => c.Code == PlayWorld.City).Respondents);
    }

    /// <summary>Respondents (or, with a question and option, choices) of test-june's current survey among participants matching a condition.</summary>
    private async Task<long> CountAsync(string condition, string? question = null, string? option = null)
    {
        await using var connection = await App.Service<Database>().OpenAsync();
        var version = App.Service<CampaignCatalog>().Get(PlayWorld.CampaignId)!.Survey!.Version;
        return question is null
            ? await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM survey_responses r JOIN participants p ON p.id = r.participant_id WHERE r.campaign_id = 'test-june' AND r.version = @version AND {condition}", new { version })
            : await connection.ExecuteScalarAsync<long>($"""
                SELECT COUNT(*) FROM survey_choices c JOIN survey_responses r ON r.campaign_id = c.campaign_id AND r.participant_id = c.participant_id
                JOIN participants p ON p.id = r.participant_id
                WHERE r.campaign_id = 'test-june' AND r.version = @version AND c.question_id = @question AND c.option_id = @option AND {condition}
                """, new { version, question, option });
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("xlsx")]
    public async Task TheExportHoldsTheSameCounts(string format)
    {
        using var person = await PlayerAsync(PlayWorld.OtherCounty);
        using (var reply = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply((await ViewAsync(person)).Version, ["fundraising"], "video", "=1+1")))
            Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());
        using var staff = await Staff.LoginAsync(App, "export-" + format, Roles.UnitStaff, PlayWorld.City);
        var results = (await staff.GetFromJsonAsync<SurveysApi.SurveyResults>($"/api/dashboard/{PlayWorld.CampaignId}/survey"))!;
        using var response = await staff.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/survey/export?format={format}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var bytes = await response.Content.ReadAsByteArrayAsync();
        List<Dictionary<string, string>> rows;
        if (format == "csv")
        {
            var lines = Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var header = lines[0].Split(',');
            rows = lines.Skip(1).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second)).ToList();
        }
        else
            rows = new MemoryStream(bytes).Query(useHeaderRow: true).Cast<IDictionary<string, object>>()
                .Select(r => r.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "")).ToList();

        Assert.Equal(1 + results.Children.Count, rows.Count);
        Assert.Equal([PlayWorld.City, .. results.Children.Select(c => c.Code)], rows.Select(r => r["单位代码"]));
        Assert.Equal(results.Respondents.ToString(CultureInfo.InvariantCulture), rows[0]["答卷人数"]);
        Assert.Equal(results.Questions[0].Options[0].Count.ToString(CultureInfo.InvariantCulture), rows[0]["1. 您最想了解哪些骗局？：非法集资"]);
        Assert.Equal(results.Questions[2].Texts.ToString(CultureInfo.InvariantCulture), rows[0]["3. 您还想了解什么？：填写人数"]);
        foreach (var (child, row) in results.Children.Zip(rows.Skip(1)))
            Assert.Equal(child.Counts["format"]["video"].ToString(CultureInfo.InvariantCulture), row["2. 您喜欢哪种学习方式？：视频"]);
        Assert.DoesNotContain("=1+1", Encoding.UTF8.GetString(bytes)); // the texts are not in the export at all
    }

    [Fact]
    public async Task OnlyAdminsReadTheFreeText()
    {
        using var person = await PlayerAsync(SurveyWorld.Jinghu);
        using (var reply = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply((await ViewAsync(person)).Version, ["pension"], "video", "希望多讲讲保健品骗局")))
            Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());

        using var wuhu = await Staff.LoginAsync(App, "wuhu-texts", Roles.UnitStaff, SurveyWorld.Wuhu);
        Assert.Equal(HttpStatusCode.Forbidden, (await wuhu.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/survey/texts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await wuhu.GetAsync($"/api/dashboard/{PlayWorld.CampaignId}/survey/texts?unit={SurveyWorld.Wuhu}")).StatusCode);
        // Their counts do say how many wrote something.
        var counts = (await wuhu.GetFromJsonAsync<SurveysApi.SurveyResults>($"/api/dashboard/{PlayWorld.CampaignId}/survey"))!;
        Assert.True(counts.Questions[2].Texts >= 1);
        Assert.DoesNotContain("保健品", await wuhu.GetStringAsync($"/api/dashboard/{PlayWorld.CampaignId}/survey"));

        using var admin = await Staff.LoginAsync(App, "texts-admin", Roles.Admin);
        var texts = (await admin.GetFromJsonAsync<SurveysApi.SurveyTexts>($"/api/dashboard/{PlayWorld.CampaignId}/survey/texts?unit={SurveyWorld.Wuhu}"))!;
        var text = Assert.Single(texts.Texts, t => t.Text == "希望多讲讲保健品骗局");
        Assert.Equal(("wishes", "您还想了解什么？", SurveyWorld.Jinghu, "镜湖区"), (text.Question, text.QuestionText, text.RegionCode, text.RegionName));
        Assert.Equal(texts.Texts.Count, texts.Total);
        Assert.DoesNotContain(texts.Texts, t => t.RegionCode is PlayWorld.County or PlayWorld.OtherCounty);
    }

    [Fact]
    public async Task DemandStandsBesideWrongAnswersByCategory()
    {
        using var person = await PlayerAsync(PlayWorld.County);
        using (var reply = await person.Client.PostAsJsonAsync($"/api/campaigns/{PlayWorld.CampaignId}/survey", Reply((await ViewAsync(person)).Version, ["pension", "fundraising", "telecom"])))
            Assert.True(reply.IsSuccessStatusCode, await reply.Content.ReadAsStringAsync());
        using var staff = await Staff.LoginAsync(App, "demand", Roles.UnitStaff, PlayWorld.City);
        var demand = (await staff.GetFromJsonAsync<SurveysApi.DemandView>($"/api/dashboard/{PlayWorld.CampaignId}/demand"))!;

        await using var connection = await App.Service<Database>().OpenAsync();
        const string hefei = "p.region_code IN ('340100', '340102', '340103')";
        Assert.Equal(await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM survey_responses r JOIN participants p ON p.id = r.participant_id WHERE r.campaign_id = 'test-june' AND {hefei}"), demand.Respondents);
        foreach (var (category, option) in new[] { ("pension", "pension"), ("features", "fundraising") })
        {
            var row = Assert.Single(demand.Categories, c => c.Category == category);
            var asked = await connection.ExecuteScalarAsync<long>($"""
                SELECT COUNT(*) FROM survey_choices c JOIN participants p ON p.id = c.participant_id
                WHERE c.campaign_id = 'test-june' AND c.question_id = 'topics' AND c.option_id = @option AND {hefei}
                """, new { option });
            var (answered, correct) = await connection.QuerySingleAsync<(long, long)>($"""
                SELECT COUNT(*), COALESCE(SUM(a.correct), 0) FROM results r JOIN participants p ON p.id = r.participant_id
                JOIN answers a ON a.result_id = r.id JOIN question_versions v ON v.question_id = a.question_id AND v.version = a.question_version
                WHERE r.campaign_id = 'test-june' AND a.chosen <> '' AND v.category = @category AND {hefei}
                """, new { category });
            Assert.Equal((asked, answered, correct), (row.Requests, row.Answered, row.Correct));
            Assert.Equal(Math.Round(100m * asked / demand.Respondents, 1), row.RequestShare);
            Assert.Equal(answered == 0 ? 0 : Math.Round(100m * (answered - correct) / answered, 1), row.WrongRate);
        }
        // "telecom" names no category: it asks for nothing the bank can teach, so it adds no row.
        Assert.DoesNotContain(demand.Categories, c => c.Category == "telecom");
        Assert.Equal("养老诈骗", demand.Categories.Single(c => c.Category == "pension").Name);
    }
}
