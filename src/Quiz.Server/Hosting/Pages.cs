using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.StaticAssets;

namespace Quiz.Server.Hosting;

/// <summary>
/// The built front end (src/Quiz.Web → wwwroot): the phone page at /, the dashboard and the admin
/// console, served as static asset endpoints with the Brotli and gzip copies the build made, and
/// the API's JSON compressed as it goes out. Players are on mobile links: the phone page's first
/// load fell from 212 KB to 59 KB on the wire, the dashboard's login screen from 679 KB to 42 KB
/// (with the chart library and SignalR's client loaded later; tests/Quiz.Web.Tests/ServingTests.cs).
/// </summary>
public static partial class Pages
{
    /// <summary>Vite's output, <c>assets/[name]-[hash].[ext]</c>: a new content is a new name, so a copy never goes stale.</summary>
    [GeneratedRegex(@"^assets/[^/]+-[A-Za-z0-9_-]{8}\.[a-z0-9]+$")]
    private static partial Regex HashedByVite();

    private const string YearLong = "public, max-age=31536000, immutable";

    public static WebApplicationBuilder AddPages(this WebApplicationBuilder builder)
    {
        // The build writes wwwroot and its manifest together (Web.targets), so no file changes under
        // a running server. ASP.NET Core's re-check for hand-edited files (on with a build's
        // manifest: dotnet run, the tests) compares a file's time to the nanosecond with the
        // manifest's to the second, takes every file for changed and sends gzip labelled br.
        builder.Configuration["ReloadStaticAssetsAtRuntime"] ??= "false";
        builder.Services.AddResponseCompression(options =>
        {
            // Behind nginx the server sees http; a client on https gets the same choice.
            options.EnableForHttps = true;
            options.Providers.Add<BrotliCompressionProvider>();
            options.Providers.Add<GzipCompressionProvider>();
        });
        // Fastest (the default) costs little CPU per response and takes JSON to a fifth.
        builder.Services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        return builder;
    }

    /// <summary>
    /// Compresses the API's and the OpenAPI document's responses, but not those that carry a secret
    /// (BREACH guesses a secret from the compressed length of a body that also reflects the
    /// attacker's input): the participant's token and verification id, the staff's antiforgery
    /// token, and the hubs' negotiation (its connection token; the hubs' WebSockets are never
    /// compressed by this middleware anyway, and long polling must not be buffered).
    /// </summary>
    public static WebApplication UsePages(this WebApplication app)
    {
        app.UseWhen(context => Compressible(context.Request.Path), branch => branch.UseResponseCompression());
        return app;
    }

    private static bool Compressible(PathString path) =>
        (path.StartsWithSegments("/api") || path.StartsWithSegments("/openapi"))
        && !path.StartsWithSegments("/api/participants")
        && !path.StartsWithSegments("/api/accounts");

    public static WebApplication MapPages(this WebApplication app)
    {
        // Every file of wwwroot, each with the precompressed copies the build wrote (see the csproj),
        // chosen by Accept-Encoding, with ETags. The HTML pages are revalidated on every visit
        // (no-cache, the endpoints' own header), so a deployment shows at the next load; the hashed
        // files they name are cached for a year.
        app.MapStaticAssets().Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<StaticAssetDescriptor>().FirstOrDefault() is { } asset && HashedByVite().IsMatch(asset.Route))
                SetCacheControl(endpoint, YearLong);
        });
        var phonePage = PhonePage(app.Environment);
        app.MapFallback("/", phonePage).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        // The phone page's screens (/play/rules, /play/round…) are its own addresses: a reload opens the same screen.
        app.MapFallback("/play/{*path:nonfile}", phonePage).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        // A live session's pages (/live, the phone; /live/host, the projector) are the phone page's too (docs/live.md, section 4).
        app.MapFallback("/live/{*path:nonfile}", phonePage).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        app.MapFallbackToFile("/dashboard/{*path:nonfile}", "dashboard.html").Add(endpoint => SetCacheControl(endpoint, "no-cache"));
        app.MapFallbackToFile("/admin/{*path:nonfile}", "admin.html").Add(endpoint => SetCacheControl(endpoint, "no-cache"));
        return app;
    }

    /// <summary>The share card's image in the built index.html, a path on the page's own host.</summary>
    private const string ShareImage = "content=\"/share.png\"";

    /// <summary>
    /// The phone page, its share card's image made an absolute address: WeChat fetches og:image from
    /// its own servers and shows no picture for a relative one. The address is the request's own
    /// scheme and host, so one build serves any domain (behind nginx: its Host header, and
    /// X-Forwarded-Proto with ASPNETCORE_FORWARDEDHEADERS_ENABLED). Revalidated on every visit, as
    /// the other pages are; at about 1.5 KB it goes uncompressed.
    /// </summary>
    private static RequestDelegate PhonePage(IWebHostEnvironment environment)
    {
        string? html = null; // read at the first request: the build wrote wwwroot before the server started
        return async context =>
        {
            var file = environment.WebRootFileProvider.GetFileInfo("index.html");
            if (!file.Exists)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            if (html is null)
            {
                using var reader = new StreamReader(file.CreateReadStream());
                html = await reader.ReadToEndAsync(context.RequestAborted);
            }
            var origin = HtmlEncoder.Default.Encode($"{context.Request.Scheme}://{context.Request.Host}");
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-cache";
            await context.Response.WriteAsync(html.Replace(ShareImage, $"content=\"{origin}/share.png\""), context.RequestAborted);
        };
    }

    /// <summary>Sets Cache-Control on the endpoint's successful responses, over whatever the endpoint itself said.</summary>
    private static void SetCacheControl(EndpointBuilder endpoint, string value)
    {
        var serve = endpoint.RequestDelegate!;
        endpoint.RequestDelegate = context =>
        {
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent or StatusCodes.Status304NotModified)
                    context.Response.Headers.CacheControl = value;
                return Task.CompletedTask;
            });
            return serve(context);
        };
    }
}
