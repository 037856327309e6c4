using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Quiz.Server.Security;

/// <summary>
/// Who may call what: the roles and policies every feature's endpoints name, and the scheme that
/// picks how a request proves who it is. The schemes themselves belong to the features that know
/// the credential (the staff cookie to Accounts, the participant token to Participants, the admin
/// key to Admin), so those features depend on this folder and never on each other.
/// </summary>
public static class Access
{
    public const string AdminPolicy = "admin";
    public const string StaffPolicy = "staff";
    public const string ParticipantPolicy = "participant";
    /// <summary>The staff member's unit code, on a staff principal that has one.</summary>
    public const string UnitClaim = "unit";

    /// <summary>The authentication schemes, by name: each is added by its feature.</summary>
    public static class Schemes
    {
        /// <summary>The default: forwards to one of the others by what the request carries.</summary>
        public const string Auto = "Auto";
        public const string Staff = CookieAuthenticationDefaults.AuthenticationScheme;
        public const string Participant = "Participant";
        public const string AdminKey = "AdminKey";
    }

    /// <summary>The header scripts send the admin key in.</summary>
    public const string AdminKeyHeader = "X-Admin-Key";

    /// <summary>
    /// The default scheme and the policies. A participant sends "Authorization: Bearer …" (or, on
    /// the play hub's WebSocket, an access_token), a script the admin key, a staff member's browser
    /// the cookie.
    /// </summary>
    public static IHostApplicationBuilder AddAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(Schemes.Auto)
            .AddPolicyScheme(Schemes.Auto, null, options => options.ForwardDefaultSelector = context =>
                context.Request.Headers.ContainsKey(AdminKeyHeader) ? Schemes.AdminKey
                : context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                  || context.Request.Path.StartsWithSegments("/hubs/play")
                  // The live hub serves staff (the cookie) and audience: a participant there sends a token.
                  || context.Request.Path.StartsWithSegments("/hubs/live") && context.Request.Query.ContainsKey("access_token") ? Schemes.Participant
                : Schemes.Staff);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireRole(Roles.Admin))
            .AddPolicy(StaffPolicy, p => p.RequireRole(Roles.Admin, Roles.UnitStaff))
            .AddPolicy(ParticipantPolicy, p => p.AddAuthenticationSchemes(Schemes.Participant).RequireAuthenticatedUser());
        builder.Services.AddAntiforgery(options => options.HeaderName = "X-CSRF-TOKEN");
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
        var byCookie = http.User.Identity?.AuthenticationType == Schemes.Staff;
        if (byCookie && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(http))
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Antiforgery token missing or invalid",
                    detail: "Send the token from GET /api/accounts/antiforgery in the X-CSRF-TOKEN header.");
        }
        return await next(context);
    }
}

public static class Roles
{
    public const string Admin = "admin";
    public const string UnitStaff = "unit-staff";
}
