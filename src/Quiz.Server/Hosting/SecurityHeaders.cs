using System.Text.RegularExpressions;

namespace Quiz.Server.Hosting;

/// <summary>
/// Browser protections on every response (pages, API, static files, errors): a content security
/// policy fit for the built Vue pages, no framing (clickjacking), no MIME sniffing, no referrer.
/// </summary>
public static partial class SecurityHeaders
{
    /// <summary>
    /// What the pages load: scripts and styles from this origin (Vite emits files, no inline
    /// script), the hubs over fetch and WebSockets to this origin, data: images (the favicon, QR
    /// codes and share posters drawn on a canvas). Styles also allow inline: ECharts' tooltips and
    /// Vue's hoisted static markup carry style attributes, and a style cannot run script.
    /// </summary>
    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self'{0}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>A host[:port] safe to write into the policy (the Host header is the caller's text).</summary>
    [GeneratedRegex(@"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")]
    private static partial Regex PlainHost();

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            // On starting, so responses rewritten later (the exception handler clears headers) carry them too.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                var host = context.Request.Host.Value;
                // CSP Level 3 lets 'self' match ws(s): to this host; older WebViews (WeChat on old
                // phones) need the WebSocket origin spelled out.
                headers.ContentSecurityPolicy = string.Format(System.Globalization.CultureInfo.InvariantCulture, Policy,
                    host is not null && PlainHost().IsMatch(host) ? $" ws://{host} wss://{host}" : "");
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }
}
