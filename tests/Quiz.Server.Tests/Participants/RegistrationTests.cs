using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Quiz.Server.Participants;
using Quiz.Server.Storage;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Participants;

public sealed class RegistrationTests : IAsyncLifetime
{
    private readonly QuizApplication _app = new();

    public Task InitializeAsync() => PlayWorld.SeedAsync(_app);

    public Task DisposeAsync()
    {
        _app.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("13812345678", "13812345678")]
    [InlineData("138 1234 5678", "13812345678")]
    [InlineData("+86 138-1234-5678", "13812345678")]
    [InlineData("008613812345678", "13812345678")]
    [InlineData("8613812345678", "13812345678")]
    [InlineData("12812345678", null)]
    [InlineData("1381234567", null)]
    [InlineData("abc", null)]
    public void MobileNumbersAreNormalised(string raw, string? expected) =>
        Assert.Equal(expected, ParticipantRegistry.NormaliseMobile(raw));

    [Fact]
    public async Task TheSameNumberIsTheSameParticipant()
    {
        var first = await PlayWorld.RegisterAsync(_app, mobile: "13912345678");
        var again = await PlayWorld.RegisterAsync(_app, mobile: "+86 139 1234 5678", region: PlayWorld.OtherCounty, track: "student");

        Assert.Equal(first.Participant.ParticipantId, again.Participant.ParticipantId);
        Assert.Equal("139****5678", again.Participant.MobileMasked);
        // Units stay as first registered, so a person cannot move their counts between units.
        Assert.Equal(PlayWorld.County, again.Participant.Region[^1].Code);
        Assert.Equal([PlayWorld.Province, PlayWorld.City, PlayWorld.County], first.Participant.Region.Select(r => r.Code));
    }

    [Fact]
    public async Task TheNumberIsStoredOnlyAsAKeyedHash()
    {
        await PlayWorld.RegisterAsync(_app, mobile: "13700001111");
        await using var connection = await _app.Service<Database>().OpenAsync();
        var row = await connection.QuerySingleAsync<(string Hash, string Masked)>(
            "SELECT mobile_hash, mobile_masked FROM participants WHERE mobile_masked = '137****1111'");
        Assert.DoesNotContain("13700001111", row.Hash);
        Assert.Equal(64, row.Hash.Length);
        var dump = await File.ReadAllBytesAsync(_app.Service<Database>().FilePath);
        Assert.DoesNotContain("13700001111", System.Text.Encoding.ASCII.GetString(dump));
    }

    public static TheoryData<object, string> BadRegistrations() => new()
    {
        { new { nickname = "甲", mobile = "12345", regionCode = PlayWorld.County, track = "general" }, "mobile" },
        { new { nickname = "", mobile = "13900000001", regionCode = PlayWorld.County, track = "general" }, "nickname" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = "999999", track = "general" }, "regionCode" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.City, track = "general" }, "regionCode" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.County, organisationCode = "ORG-999", track = "general" }, "organisationCode" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.County, track = "astronaut" }, "track" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task BadRegistrationsNameTheField(object registration, string field)
    {
        using var client = _app.CreateClient();
        using var response = await client.PostAsJsonAsync("/api/participants/register", registration);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();
        Assert.Equal([field], problem!.Errors.Keys);
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
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
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
