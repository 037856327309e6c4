using System.Net;
using System.Net.Http.Json;
using Quiz.Server.Tests.Infrastructure;
using static Quiz.Server.Tests.Hosting.DeploymentFiles;

namespace Quiz.Server.Tests.Hosting;

/// <summary>
/// Behind nginx every request comes from nginx's address. The compose nodes get
/// ASPNETCORE_FORWARDEDHEADERS_ENABLED, so the server takes the client's address from the
/// X-Forwarded-For that deploy/nginx.conf sets, and per-address limits count each client, not the
/// balancer. Without it one busy address would refuse registrations for the whole country.
/// </summary>
public sealed class ForwardedAddressTests
{
    /// <summary>The compose nodes' setting, as the host reads it (ASPNETCORE_ is the prefix of host settings).</summary>
    private static (string Key, string Value) ComposeSetting()
    {
        var compose = ParseYaml(ContainerDeploymentTests.ReadFiles().Compose);
        var node = Words(ParseEnvFile(ContainerDeploymentTests.ReadFiles().Topology)["QUIZ_NODES"])[0];
        var value = At(compose, "services", node, "environment", "ASPNETCORE_FORWARDEDHEADERS_ENABLED") as string;
        Assert.NotNull(value);
        return ("FORWARDEDHEADERS_ENABLED", value);
    }

    private static async Task<HttpStatusCode> RegisterFromAsync(HttpClient client, string address)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/participants/register")
        {
            Content = JsonContent.Create(new { nickname = "甲", mobile = PlayWorld.NextMobile(), regionCode = PlayWorld.County, track = "general" }),
        };
        request.Headers.Add("X-Forwarded-For", address);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PerAddressLimitsCountTheClientThatNginxNames(bool asComposeSetsIt)
    {
        var (key, value) = ComposeSetting();
        using var app = new QuizApplication().With("RateLimits:RegistrationsPerMinutePerAddress", "1");
        if (asComposeSetsIt) app.With(key, value);
        await PlayWorld.SeedAsync(app);
        using var client = app.CreateClient();

        var first = await RegisterFromAsync(client, "203.0.113.1");
        var again = await RegisterFromAsync(client, "203.0.113.1");
        var other = await RegisterFromAsync(client, "203.0.113.2");

        Assert.Equal(HttpStatusCode.Accepted, first);
        Assert.Equal(HttpStatusCode.TooManyRequests, again);
        // With the setting the second client has its own allowance; without it, both are "nginx".
        Assert.Equal(asComposeSetsIt ? HttpStatusCode.Accepted : HttpStatusCode.TooManyRequests, other);
    }
}
