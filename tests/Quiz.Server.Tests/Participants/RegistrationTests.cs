using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Quiz.Server.Participants;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Participants;

/// <remarks>
/// One seeded server for the class: each test registers numbers of its own, and the clock only moves
/// forward, which no test minds (codes and tokens are judged against the time they were issued).
/// </remarks>
public sealed class RegistrationTests(SeededServer server) : IClassFixture<SeededServer>
{
    private readonly QuizApplication _app = server.App;

    private static object Form(string mobile, string nickname = "测试用户", string region = PlayWorld.County, string track = "general",
        string? organisation = PlayWorld.Bank) => new { nickname, mobile, regionCode = region, organisationCode = organisation, track };

    [Fact]
    public async Task AKnownNumberAfterItsCodeIsTheSameParticipantAsFirstRegistered()
    {
        var first = await PlayWorld.RegisterAsync(_app, mobile: "13912345678");
        _app.Clock.Advance(TimeSpan.FromSeconds(61)); // past the resend interval of the number
        var again = await PlayWorld.RegisterAsync(_app, mobile: "+86 139 1234 5678", region: PlayWorld.OtherCounty, track: "student");

        Assert.Equal(first.Participant.ParticipantId, again.Participant.ParticipantId);
        Assert.Equal("139****5678", again.Participant.MobileMasked);
        // Units stay as first registered, so a person cannot move their counts between units.
        Assert.Equal(PlayWorld.County, again.Participant.Region[^1].Code);
        Assert.Equal("general", again.Participant.Track);
        Assert.Equal([PlayWorld.Province, PlayWorld.City, PlayWorld.County], first.Participant.Region.Select(r => r.Code));
    }

    [Fact]
    public async Task ANewNumbersAnswerAfterItsCodeIsTheParticipantAsStored()
    {
        // The answer is built from the verification's own row, not read back: it must say what the store holds.
        var registered = await PlayWorld.RegisterAsync(_app, mobile: "13655556666", region: PlayWorld.OtherCounty, track: "student");
        await using var connection = await _app.Service<Database>().OpenAsync();
        var row = await connection.QuerySingleAsync<(long Id, string Nickname, string Masked, string Region, string? Organisation, string Track)>(
            "SELECT id, nickname, mobile_masked, region_code, organisation_code, track FROM participants WHERE mobile_masked = '136****6666'");

        var p = registered.Participant;
        Assert.Equal(row, (p.ParticipantId, p.Nickname, p.MobileMasked, p.Region[^1].Code, p.Organisation?.Code, p.Track));
        Assert.Equal((PlayWorld.OtherCounty, "student", PlayWorld.Bank), (row.Region, row.Track, row.Organisation));
    }

    [Fact]
    public async Task RegisteringAKnownNumberAnswersExactlyAsANewOneAndRevealsNothing()
    {
        await PlayWorld.RegisterAsync(_app, mobile: "13811112222");
        _app.Clock.Advance(TimeSpan.FromSeconds(61));
        using var client = _app.CreateClient();

        using var known = await client.PostAsJsonAsync("/api/participants/register", Form("13811112222", nickname: "冒充者", region: PlayWorld.OtherCounty));
        using var unknown = await client.PostAsJsonAsync("/api/participants/register", Form("13811113333", nickname: "冒充者", region: PlayWorld.OtherCounty));
        var knownText = await known.Content.ReadAsStringAsync();
        var unknownText = await unknown.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Accepted, known.StatusCode);
        Assert.Equal(unknown.StatusCode, known.StatusCode);
        Assert.Equal(Headers(unknown), Headers(known));
        // The same fields with values of the same length; only the random id differs.
        Assert.Equal(Shape(unknownText), Shape(knownText));
        Assert.Equal(knownText.Length, unknownText.Length);
        Assert.Equal(["expiresInSeconds", "resendAfterSeconds", "verificationId"], Fields(knownText));
        foreach (var secret in new[] { "测试用户", "token", PlayWorld.County, PlayWorld.Bank, "13811112222", "139****", "participant" })
            Assert.DoesNotContain(secret, knownText, StringComparison.OrdinalIgnoreCase);

        static string[] Headers(HttpResponseMessage r) =>
            [.. r.Headers.Concat(r.Content.Headers).Where(h => h.Key != "Date").Select(h => $"{h.Key}: {string.Join(",", h.Value)}").Order()];
        static string[] Fields(string json) => [.. System.Text.Json.JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name).Order()];
        static string Shape(string json) => string.Join(";", System.Text.Json.JsonDocument.Parse(json).RootElement.EnumerateObject()
            .Select(p => $"{p.Name}={p.Value.ValueKind}/{p.Value.ToString().Length}" + (p.Name == "verificationId" ? "" : $"/{p.Value}")));
    }

    [Fact]
    public async Task NoTokenWithoutTheRightCode()
    {
        using var client = _app.CreateClient();
        var sent = await PlayWorld.StartRegistrationAsync(client, Form("13822223333"));
        var code = await _app.Codes.CodeForAsync(sent.VerificationId);
        var wrong = code == "000000" ? "000001" : "000000";

        using var response = await client.PostAsJsonAsync("/api/participants/verify", new { sent.VerificationId, code = wrong });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Problem(response);
        Assert.Equal("wrong-code", problem.GetProperty("code").GetString());
        Assert.Equal(4, problem.GetProperty("attemptsLeft").GetInt32());
        Assert.DoesNotContain("token", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task FiveWrongCodesVoidTheVerification()
    {
        using var client = _app.CreateClient();
        var sent = await PlayWorld.StartRegistrationAsync(client, Form("13833334444"));
        var code = await _app.Codes.CodeForAsync(sent.VerificationId);
        var wrong = code == "000000" ? "000001" : "000000";

        var answers = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsJsonAsync("/api/participants/verify", new { sent.VerificationId, code = wrong });
            answers.Add((await Problem(response)).GetProperty("code").GetString()!);
        }
        using var right = await client.PostAsJsonAsync("/api/participants/verify", new { sent.VerificationId, code });

        Assert.Equal(["wrong-code", "wrong-code", "wrong-code", "wrong-code", "too-many-attempts"], answers);
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Equal("verification-invalid", (await Problem(right)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task AnExpiredCodeFails()
    {
        using var client = _app.CreateClient();
        var sent = await PlayWorld.StartRegistrationAsync(client, Form("13844445555"));
        var code = await _app.Codes.CodeForAsync(sent.VerificationId);
        Assert.Equal(300, sent.ExpiresInSeconds);
        _app.Clock.Advance(TimeSpan.FromSeconds(sent.ExpiresInSeconds));

        using var response = await client.PostAsJsonAsync("/api/participants/verify", new { sent.VerificationId, code });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("verification-invalid", (await Problem(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task UsedUnknownAndExpiredVerificationsGetTheSameAnswer()
    {
        using var client = _app.CreateClient();
        var used = await PlayWorld.StartRegistrationAsync(client, Form("13855556666"));
        var usedCode = await _app.Codes.CodeForAsync(used.VerificationId);
        (await client.PostAsJsonAsync("/api/participants/verify", new { used.VerificationId, code = usedCode })).EnsureSuccessStatusCode();
        var expired = await PlayWorld.StartRegistrationAsync(client, Form("13855557777"));
        var expiredCode = await _app.Codes.CodeForAsync(expired.VerificationId);

        using var again = await client.PostAsJsonAsync("/api/participants/verify", new { used.VerificationId, code = usedCode });
        using var unknown = await client.PostAsJsonAsync("/api/participants/verify", new { verificationId = "AAAAAAAAAAAAAAAAAAAAAA", code = usedCode });
        _app.Clock.Advance(TimeSpan.FromMinutes(6));
        using var late = await client.PostAsJsonAsync("/api/participants/verify", new { expired.VerificationId, code = expiredCode });

        var bodies = new[] { await again.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync(), await late.Content.ReadAsStringAsync() }
            .Select(b => System.Text.RegularExpressions.Regex.Replace(b, "\"traceId\":\"[^\"]*\"", "")).ToList();
        Assert.Contains("verification-invalid", bodies[0]);
        Assert.All(bodies, b => Assert.Equal(bodies[0], b));
    }

    [Fact]
    public async Task CodesToOneNumberAreSpacedAndCappedPerDay()
    {
        using var client = _app.CreateClient();
        var statuses = new List<string>();
        for (var i = 0; i < 11; i++)
        {
            using var response = await client.PostAsJsonAsync("/api/participants/register", Form("13866667777"));
            using var tooSoon = await client.PostAsJsonAsync("/api/participants/register", Form("13866667777"));
            statuses.Add($"{(int)response.StatusCode}/{(int)tooSoon.StatusCode}");
            if (i == 0)
            {
                Assert.Equal("resend-too-soon", (await Problem(tooSoon)).GetProperty("code").GetString());
                Assert.Equal("60", tooSoon.Headers.RetryAfter?.ToString());
            }
            if (i == 10) Assert.Equal("daily-limit", (await Problem(response)).GetProperty("code").GetString());
            _app.Clock.Advance(TimeSpan.FromSeconds(60));
        }
        using var otherNumber = await client.PostAsJsonAsync("/api/participants/register", Form("13866668888"));
        _app.Clock.Advance(TimeSpan.FromHours(24));
        using var nextDay = await client.PostAsJsonAsync("/api/participants/register", Form("13866667777"));

        Assert.Equal([.. Enumerable.Repeat("202/429", 10), "429/429"], statuses);
        Assert.Equal(HttpStatusCode.Accepted, otherNumber.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, nextDay.StatusCode);
    }

    [Fact]
    public async Task ACodeThatIsNotSixDigitsIsAFieldErrorAndCostsNoAttempt()
    {
        using var client = _app.CreateClient();
        var sent = await PlayWorld.StartRegistrationAsync(client, Form("13877778888"));
        using var response = await client.PostAsJsonAsync("/api/participants/verify", new { sent.VerificationId, code = "12345" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();
        Assert.Equal(["code"], problem!.Errors.Keys);
        await using var connection = await _app.Service<Database>().OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT attempts FROM verifications WHERE id = @id", new { id = sent.VerificationId }));
    }

    [Fact]
    public async Task TheNumberIsStoredOnlyAsAKeyedHash()
    {
        await PlayWorld.RegisterAsync(_app, mobile: "13700001111");
        using var client = _app.CreateClient();
        var pending = await PlayWorld.StartRegistrationAsync(client, Form("13700002222"));
        var code = await _app.Codes.CodeForAsync(pending.VerificationId);
        await using var connection = await _app.Service<Database>().OpenAsync();
        var row = await connection.QuerySingleAsync<(string Hash, string Masked)>(
            "SELECT mobile_hash, mobile_masked FROM participants WHERE mobile_masked = '137****1111'");
        var codeHash = await connection.ExecuteScalarAsync<string>("SELECT code_hash FROM verifications WHERE id = @id", new { id = pending.VerificationId });
        Assert.DoesNotContain("13700001111", row.Hash);
        Assert.Equal(64, row.Hash.Length);
        Assert.Equal(64, codeHash!.Length);
        Assert.NotEqual(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(code))), codeHash);
        if (_app.Service<Database>().IsPostgres) return; // no file to read: the rows above are all there is
        var dump = System.Text.Encoding.ASCII.GetString(await File.ReadAllBytesAsync(_app.Service<Database>().FilePath));
        var wal = _app.Service<Database>().FilePath + "-wal";
        if (File.Exists(wal)) dump += System.Text.Encoding.ASCII.GetString(await File.ReadAllBytesAsync(wal));
        Assert.DoesNotContain("13700001111", dump);
        Assert.DoesNotContain("13700002222", dump);
    }

    private static async Task<System.Text.Json.JsonElement> Problem(HttpResponseMessage response) =>
        System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task EachSampleSeasonsFormIsCheckedByItsOwnRegistrationRules()
    {
        foreach (var id in new[] { "2024-june", "2025-june" })
        {
            var (campaign, errors) = Quiz.Server.Campaigns.CampaignCatalog.Parse(
                File.ReadAllText(Path.Combine(Questions.QuestionBankContentTests.BankFolder, "campaigns", id + ".json")));
            Assert.True(campaign is not null, string.Join("; ", errors));
            await _app.Service<Quiz.Server.Campaigns.CampaignCatalog>().SaveAsync(campaign);
        }
        using var client = _app.CreateClient();
        // The phone page reads the rules from the campaign as served, in the words the docs use.
        Assert.Contains("\"registration\":{\"regionLevel\":\"province\",\"track\":\"none\"}", await client.GetStringAsync("/api/campaigns/2025-june"));
        // And every other rule with a name: the words of web-api.md, not enum numbers.
        var served2024 = await client.GetStringAsync("/api/campaigns/2024-june");
        Assert.Contains("\"aggregation\":\"best-per-scene-summed\"", served2024);
        Assert.Contains("\"multipleScoring\":\"all-or-nothing\"", served2024);
        Assert.Contains("\"headcountBase\":\"residents\"", served2024);
        async Task<string[]> FieldsRefused(object form)
        {
            using var response = await client.PostAsJsonAsync("/api/participants/register", form);
            if (response.StatusCode == HttpStatusCode.Accepted) return [];
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return [.. (await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>())!.Errors.Keys.Order()];
        }

        // 2024: the county, and a track.
        Assert.Equal(["regionCode"], await FieldsRefused(new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.Province, track = "general", campaignId = "2024-june" }));
        Assert.Equal(["track"], await FieldsRefused(new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, campaignId = "2024-june" }));
        Assert.Empty(await FieldsRefused(new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "student", campaignId = "2024-june" }));
        // 2025: the province, and no track (a track that is sent must still be one).
        Assert.Equal(["regionCode"], await FieldsRefused(new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, campaignId = "2025-june" }));
        Assert.Equal(["regionCode"], await FieldsRefused(new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.City, campaignId = "2025-june" }));
        Assert.Equal(["track"], await FieldsRefused(new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.Province, track = "astronaut", campaignId = "2025-june" }));

        // A 2025 registration verifies into a province-level participant with the general track.
        var registered = await PlayWorld.RegisterAsync(client, _app.Codes,
            new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.Province, organisationCode = PlayWorld.University, campaignId = "2025-june" });
        Assert.Equal([PlayWorld.Province], registered.Participant.Region.Select(r => r.Code));
        Assert.Equal(("general", PlayWorld.University), (registered.Participant.Track, registered.Participant.Organisation?.Code));
    }

    [Fact]
    public async Task TheTokenIdentifiesTheParticipantAndForgeriesAreRefused()
    {
        var registered = await PlayWorld.RegisterAsync(_app);
        using var client = _app.CreateClient();

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registered.Token);
        var me = await client.GetFromJsonAsync<ParticipantsApi.ParticipantView>("/api/participants/me");
        var parts = registered.Token.Split('.');
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{parts[0] + "1"}.{parts[1]}.{parts[2]}");
        using var forged = await client.GetAsync("/api/participants/me");

        Assert.Equal(registered.Participant.ParticipantId, me!.ParticipantId);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
    }

    [Fact]
    public async Task ExpiredTokensAreRefused()
    {
        var registered = await PlayWorld.RegisterAsync(_app);
        _app.Clock.Advance(TimeSpan.FromDays(31));
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registered.Token);
        using var response = await client.GetAsync("/api/participants/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task RegistrationIsRateLimitedPerAddress()
    {
        using var limited = new QuizApplication().With("RateLimits:RegistrationsPerMinutePerAddress", "3");
        await PlayWorld.SeedAsync(limited);
        using var client = limited.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsJsonAsync("/api/participants/register",
                new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "general" });
            statuses.Add(response.StatusCode);
        }
        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task ARefusedRegistrationSaysHowManySecondsToWait()
    {
        using var limited = new QuizApplication().With("RateLimits:RegistrationsPerMinutePerAddress", "1");
        await PlayWorld.SeedAsync(limited);
        using var client = limited.CreateClient();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 2; i++)
        {
            refused?.Dispose();
            refused = await client.PostAsJsonAsync("/api/participants/register",
                new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "general" });
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, refused!.StatusCode);
        Assert.Equal(["60"], refused.Headers.GetValues("Retry-After")); // the fixed window's length: a safe upper bound
        refused.Dispose();
    }
}
