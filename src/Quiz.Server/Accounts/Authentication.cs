using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Quiz.Server.Storage;
using Microsoft.Extensions.Options;
using Quiz.Server.Admin;
using Quiz.Server.Participants;

namespace Quiz.Server.Accounts;

/// <summary>
/// Who is calling: a participant (Bearer token, or access_token on the play hub), a staff member
/// (cookie, with antiforgery on changes), or a script with the admin key (X-Admin-Key header).
/// </summary>
public static class Authentication
{
    public const string Auto = "Auto";
    public const string AdminPolicy = "admin";
    public const string StaffPolicy = "staff";
    public const string ParticipantPolicy = "participant";
    public const string UnitClaim = "unit";

    public static IHostApplicationBuilder AddAuthSchemes(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(Auto)
            .AddPolicyScheme(Auto, null, options => options.ForwardDefaultSelector = context =>
                context.Request.Headers.ContainsKey(AdminKey.Header) ? AdminKeyAuthentication.SchemeName
                : context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                  || context.Request.Path.StartsWithSegments("/hubs/play") ? ParticipantAuthentication.SchemeName
                : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ParticipantAuthentication>(ParticipantAuthentication.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthentication>(AdminKeyAuthentication.SchemeName, null)
            .AddCookie(options =>
            {
                options.Cookie.Name = "quiz.staff";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                // The session row in the store decides (StaffSessions); the cookie's own expiry matches it.
                options.ExpireTimeSpan = StaffSessions.Lifetime;
                options.SlidingExpiration = false;
                options.Events.OnValidatePrincipal = StaffSessions.ValidateAsync;
                // An API answers with status codes, not redirects to a login page.
                options.Events.OnRedirectToLogin = context => { context.Response.StatusCode = 401; return Task.CompletedTask; };
                options.Events.OnRedirectToAccessDenied = context => { context.Response.StatusCode = 403; return Task.CompletedTask; };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireRole(Roles.Admin))
            .AddPolicy(StaffPolicy, p => p.RequireRole(Roles.Admin, Roles.UnitStaff))
            .AddPolicy(ParticipantPolicy, p => p.AddAuthenticationSchemes(ParticipantAuthentication.SchemeName).RequireAuthenticatedUser());
        builder.Services.AddAntiforgery(options => options.HeaderName = "X-CSRF-TOKEN");
        builder.AddKeyRing();
        return builder;
    }

    /// <summary>Admin only; a change made with the staff cookie must carry the antiforgery token.</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(AdminPolicy).AddEndpointFilter(ValidateAntiforgery);

    public static TBuilder RequireStaff<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(StaffPolicy).AddEndpointFilter(ValidateAntiforgery);

    private static async ValueTask<object?> ValidateAntiforgery(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var byCookie = http.User.Identity?.AuthenticationType == CookieAuthenticationDefaults.AuthenticationScheme;
        if (byCookie && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(http))
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Antiforgery token missing or invalid",
                    detail: "Send the token from GET /api/accounts/antiforgery in the X-CSRF-TOKEN header.");
        }
        return await next(context);
    }

    /// <summary>
    /// The Data Protection key ring (it signs and encrypts the staff cookie and the antiforgery
    /// tokens) belongs to the deployment, not to a node or the OS user: it lives in the store
    /// (<see cref="KeyRing"/>), so an admin who logs in on one node works on any other. Sessions are
    /// checked against the store anyway, so a cookie minted with a copied key ring still names no
    /// session here.
    /// </summary>
    private static void AddKeyRing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDataProtection().SetApplicationName("Quiz");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<Database, TimeProvider>((options, database, clock) =>
            options.XmlRepository = new KeyRing(database, clock));
    }

    public static ClaimsPrincipal Principal(Account account, string sessionId) => new(new ClaimsIdentity(
        [
            new Claim(StaffSessions.SessionClaim, sessionId),
            new Claim(ClaimTypes.Name, account.Name),
            new Claim(ClaimTypes.Role, account.Role),
            .. account.UnitCode is { } unit ? [new Claim(UnitClaim, unit)] : Array.Empty<Claim>(),
        ], CookieAuthenticationDefaults.AuthenticationScheme));
}

/// <summary>Scripts (and the tests) call admin endpoints with the configured key in X-Admin-Key.</summary>
public sealed class AdminKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminKey key)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(AdminKey.Header, out var value)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!key.Matches(value)) return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin-key"), new Claim(ClaimTypes.Role, Roles.Admin)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
