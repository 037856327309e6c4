using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Quiz.Server.Security;
using Quiz.Server.Storage;

namespace Quiz.Server.Accounts;

/// <summary>
/// The staff member's proof: an HttpOnly, SameSite=Strict cookie naming a session row in the store
/// (<see cref="StaffSessions"/>), signed with the deployment's key ring.
/// </summary>
public static class StaffCookie
{
    public const string Name = "quiz.staff";

    public static IHostApplicationBuilder AddStaffCookie(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication().AddCookie(Access.Schemes.Staff, options =>
        {
            options.Cookie.Name = Name;
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
        builder.AddKeyRing();
        return builder;
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
            .. account.UnitCode is { } unit ? [new Claim(Access.UnitClaim, unit)] : Array.Empty<Claim>(),
        ], Access.Schemes.Staff));
}
