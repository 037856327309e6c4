using System.Net;
using System.Net.Http.Json;
using Quiz.Server.Tests.Infrastructure;

namespace Quiz.Server.Tests.Participants;

/// <summary>Refused registrations change nothing, so they share one seeded server.</summary>
public sealed class RegistrationFormTests(SeededServer server) : IClassFixture<SeededServer>
{
    public static TheoryData<object, string> BadRegistrations() => new()
    {
        { new { nickname = "甲", mobile = "12345", regionCode = PlayWorld.County, track = "general" }, "mobile" },
        { new { nickname = "", mobile = "13900000001", regionCode = PlayWorld.County, track = "general" }, "nickname" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = "999999", track = "general" }, "regionCode" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.City, track = "general" }, "regionCode" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.County, organisationCode = "ORG-999", track = "general" }, "organisationCode" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.County, track = "astronaut" }, "track" },
        // Without a campaignId the default form applies: the lowest level, and a track.
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.Province, track = "general" }, "regionCode" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.County }, "track" },
        { new { nickname = "甲", mobile = "13900000001", regionCode = PlayWorld.County, track = "general", campaignId = "no-such-campaign" }, "campaignId" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task BadRegistrationsNameTheField(object registration, string field)
    {
        using var client = server.App.CreateClient();
        using var response = await client.PostAsJsonAsync("/api/participants/register", registration);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();
        Assert.Equal([field], problem!.Errors.Keys);
    }
}
