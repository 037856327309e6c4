using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Quiz.Server.Participants;
using Quiz.Web.Tests.Infrastructure;

namespace Quiz.Web.Tests;

/// <summary>
/// How the pages travel (issue 14, point 9): the phone page's first load fits a slow mobile link
/// (≤ 80 KB on the wire, SignalR's client only after sign-up), the dashboard's login screen leaves
/// the chart library alone (point 7), hashed assets are cached for a year and compressed, HTML is
/// revalidated, and responses that carry a secret are never compressed.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed partial class ServingTests(QuizSite site)
{
    private const long FirstLoadBudget = 80 * 1024;
    private const string YearLong = "public, max-age=31536000, immutable";

    [GeneratedRegex(@"/assets/signalr-[^/]*\.js$")]
    private static partial Regex SignalRChunk();

    [GeneratedRegex(@"/assets/echarts-[^/]*\.js$")]
    private static partial Regex EChartsChunk();

    [GeneratedRegex(@"/assets/index-[^""/]+\.js")]
    private static partial Regex PhoneEntry();

    /// <summary>Every request a page made, and every response it received in full with what it cost on the wire (headers and encoded body).</summary>
    private sealed class Traffic
    {
        private readonly List<string> _requested = [];
        private readonly List<IRequest> _finished = [];
        private readonly List<string> _failed = [];

        public Traffic(IPage page)
        {
            page.Request += (_, request) => { lock (_requested) _requested.Add(request.Url); };
            page.RequestFinished += (_, request) => { lock (_finished) _finished.Add(request); };
            page.RequestFailed += (_, request) => { lock (_failed) _failed.Add(request.Url); };
        }

        /// <summary>Every address asked for, answered yet or not.</summary>
        public IReadOnlyList<string> Urls { get { lock (_requested) return _requested.ToList(); } }
        public IReadOnlyList<string> Failed { get { lock (_failed) return _failed.ToList(); } }

        public async Task<(long Total, string Report)> TransferredAsync()
        {
            List<IRequest> requests;
            lock (_finished) requests = _finished.ToList();
            long total = 0;
            var lines = new List<string>();
            foreach (var request in requests)
            {
                var sizes = await request.SizesAsync();
                var bytes = (long)sizes.ResponseHeadersSize + sizes.ResponseBodySize;
                total += bytes;
                lines.Add($"{bytes,8} {new Uri(request.Url).PathAndQuery}");
            }
            return (total, string.Join("\n", lines));
        }
    }

    [Fact]
    public async Task ThePhonePagesFirstLoadTransfersAtMost80KbAndLoadsSignalROnlyAfterSignUp()
    {
        await using var context = await site.NewContextAsync(phone: true);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        var traffic = new Traffic(page);

        await page.GotoAsync("/", new() { WaitUntil = WaitUntilState.NetworkIdle });
        await page.Locator("[data-test=nickname]").WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        var (total, report) = await traffic.TransferredAsync();
        Console.WriteLine($"phone page first load: {total} bytes transferred\n{report}");
        Assert.Empty(traffic.Failed);
        Assert.True(total <= FirstLoadBudget, $"the first load transferred {total} bytes (budget {FirstLoadBudget}):\n{report}");
        Assert.DoesNotContain(traffic.Urls, url => SignalRChunk().IsMatch(url));
        Assert.DoesNotContain(traffic.Urls, url => EChartsChunk().IsMatch(url));
        await QuizSite.ScreensAsync(page, "serving-1-phone-first-load");

        // Signing up is what brings the hub's client in (the wait fails if it never comes).
        await page.RunAndWaitForRequestFinishedAsync(
            () => Phone.RegisterAsync(site, page, "轻装上阵", "340000", "340100", "340102"),
            new() { Predicate = request => SignalRChunk().IsMatch(request.Url) });
        await Assertions.Expect(page.Locator("[data-test=start]")).ToBeEnabledAsync(); // the hub connected
        Assert.DoesNotContain(traffic.Urls, url => EChartsChunk().IsMatch(url));
        await Axe.AssertAccessibleAsync(page, "phone page, signed up");
    }

    [Fact]
    public async Task TheDashboardLoginScreenLoadsNoChartLibraryUntilAChartIsShown()
    {
        await using var context = await site.NewContextAsync(phone: false);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        var traffic = new Traffic(page);

        await page.GotoAsync($"/dashboard?c={QuizSite.CampaignId}", new() { WaitUntil = WaitUntilState.NetworkIdle });
        await page.Locator("[data-test=login-name]").WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var (total, report) = await traffic.TransferredAsync();
        Console.WriteLine($"dashboard login screen: {total} bytes transferred\n{report}");
        Assert.DoesNotContain(traffic.Urls, url => EChartsChunk().IsMatch(url));
        await QuizSite.ScreensAsync(page, "serving-2-dashboard-login");
        Assert.DoesNotContain(traffic.Urls, url => EChartsChunk().IsMatch(url)); // not at a phone's width either

        // Signed in, the trend chart brings the library (the wait fails if it never comes).
        await page.FillAsync("[data-test=login-name]", QuizSite.AdminName);
        await page.FillAsync("[data-test=login-password]", QuizSite.Password);
        await page.RunAndWaitForRequestFinishedAsync(() => page.ClickAsync("[data-test=login]"),
            new() { Predicate = request => EChartsChunk().IsMatch(request.Url) });
        await page.Locator("[data-test=trend-chart] canvas").WaitForAsync();
        // The signed-in dashboard's axe-core check is DashboardTests' (that page state is theirs).
    }

    [GeneratedRegex(@"<meta (property|name|itemprop)=""([^""]+)"" content=""([^""]*)""")]
    private static partial Regex MetaTag();

    [Fact]
    public async Task ThePhonePageCarriesTheCardThatWeChatShowsForASharedLink()
    {
        using var client = NewClient();
        using var html = await GetAsync(client, "/");
        var meta = MetaTag().Matches(await ReadTextAsync(html)).ToDictionary(m => $"{m.Groups[1]}={m.Groups[2]}", m => m.Groups[3].Value);
        // og: for today's WeChat and other apps, itemprop and description for older WeChat and QQ.
        Assert.Equal("防范非法集资知识竞答", meta["property=og:title"]);
        Assert.Equal(meta["property=og:title"], meta["itemprop=name"]);
        Assert.Contains("非法集资", meta["property=og:description"]);
        Assert.Equal(meta["property=og:description"], meta["name=description"]);
        Assert.Equal(meta["property=og:description"], meta["itemprop=description"]);
        // WeChat fetches the image from its own servers: an absolute address, this request's scheme and host.
        Assert.Equal($"{site.Address.GetLeftPart(UriPartial.Authority)}/share.png", meta["property=og:image"]);
        Assert.Equal(meta["property=og:image"], meta["itemprop=image"]);
        // The host is the request's, not one baked into the build: a screen's address under another domain names that domain.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/play/rules"))
        {
            request.Headers.Host = "quiz.example.cn";
            using var other = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.Contains("<meta property=\"og:image\" content=\"http://quiz.example.cn/share.png\"", await ReadTextAsync(other));
        }

        using var image = await GetAsync(client, meta["property=og:image"]);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        var png = await image.Content.ReadAsByteArrayAsync();
        Assert.InRange(png.Length, 1, 20 * 1024); // small: it is fetched on a phone's data plan
        // WeChat crops the card's image to a square and wants at least 300 px: the PNG header's width and height.
        Assert.Equal(300, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)));
        Assert.Equal(300, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
        Assert.Equal("300", meta["property=og:image:width"]);
        Assert.Equal("300", meta["property=og:image:height"]);
    }

    private HttpClient NewClient() => new(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = site.Address };

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, params string[] encodings)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var encoding in encodings) request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task HashedAssetsAreCachedForAYearAndCompressedWhileHtmlIsRevalidated()
    {
        using var client = NewClient();
        using var html = await GetAsync(client, "/", "br", "gzip");
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.True(html.Headers.CacheControl?.NoCache, $"/ has Cache-Control '{html.Headers.CacheControl}'");
        var entry = PhoneEntry().Match(await ReadTextAsync(html)).Value;
        Assert.NotEmpty(entry);

        string original;
        using (var plain = await GetAsync(client, entry))
        {
            Assert.Empty(plain.Content.Headers.ContentEncoding);
            Assert.Equal(YearLong, plain.Headers.CacheControl?.ToString());
            original = await ReadTextAsync(plain);
        }
        foreach (var encoding in new[] { "br", "gzip" })
        {
            using var asset = await GetAsync(client, entry, encoding);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(YearLong, asset.Headers.CacheControl?.ToString());
            Assert.Equal([encoding], asset.Content.Headers.ContentEncoding);
            Assert.Contains("Accept-Encoding", asset.Headers.Vary);
            Assert.True(asset.Content.Headers.ContentLength < original.Length / 2, $"{encoding}: {asset.Content.Headers.ContentLength} of {original.Length} bytes");
            Assert.Equal(original, await ReadTextAsync(asset)); // the copy really is in that encoding
        }

        foreach (var page in new[] { "/dashboard", "/dashboard/units", "/admin" })
        {
            using var response = await GetAsync(client, page, "gzip");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.True(response.Headers.CacheControl?.NoCache, $"{page} has Cache-Control '{response.Headers.CacheControl}'");
        }
    }

    [Fact]
    public async Task ApiJsonIsCompressedButNotResponsesCarryingSecretsNorTheHubs()
    {
        using var client = NewClient();
        using (var campaigns = await GetAsync(client, "/api/campaigns", "br", "gzip"))
        {
            Assert.Equal(HttpStatusCode.OK, campaigns.StatusCode);
            Assert.Equal(["br"], campaigns.Content.Headers.ContentEncoding);
        }

        // The sign-up hands out the participant's token: BREACH could read it out of a compressed body.
        var mobile = QuizSite.NextMobile();
        using var registered = await client.PostAsJsonAsync("/api/participants/register",
            new { nickname = "不压缩", mobile, regionCode = "340102", track = "general" });
        Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        var sent = (await registered.Content.ReadFromJsonAsync<ParticipantsApi.VerificationSent>())!;
        using var verify = new HttpRequestMessage(HttpMethod.Post, "/api/participants/verify")
        {
            Content = JsonContent.Create(new { sent.VerificationId, code = await site.Codes.CodeForAsync(sent.VerificationId) }),
        };
        verify.Headers.AcceptEncoding.ParseAdd("br, gzip");
        using var verified = await client.SendAsync(verify);
        Assert.True(verified.IsSuccessStatusCode, await verified.Content.ReadAsStringAsync());
        Assert.Empty(verified.Content.Headers.ContentEncoding);
        var token = (await verified.Content.ReadFromJsonAsync<ParticipantsApi.Registered>())!.Token;

        // The hub's negotiation carries a connection token.
        using var negotiate = new HttpRequestMessage(HttpMethod.Post, "/hubs/play/negotiate?negotiateVersion=1");
        negotiate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        negotiate.Headers.AcceptEncoding.ParseAdd("br, gzip");
        using var negotiated = await client.SendAsync(negotiate);
        Assert.Equal(HttpStatusCode.OK, negotiated.StatusCode);
        Assert.Contains("connectionToken", await negotiated.Content.ReadAsStringAsync());
        Assert.Empty(negotiated.Content.Headers.ContentEncoding);
    }

    private static async Task<string> ReadTextAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStreamAsync();
        Stream text = response.Content.Headers.ContentEncoding.LastOrDefault() switch
        {
            "br" => new System.IO.Compression.BrotliStream(body, System.IO.Compression.CompressionMode.Decompress),
            "gzip" => new System.IO.Compression.GZipStream(body, System.IO.Compression.CompressionMode.Decompress),
            _ => body,
        };
        using var reader = new StreamReader(text);
        return await reader.ReadToEndAsync();
    }
}
