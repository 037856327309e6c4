using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiz.Server.Hosting;
using Quiz.Server.Security;
using Quiz.Server.Units;

namespace Quiz.Server.Accounts;

public static class AccountsApi
{
    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        builder.AddStaffCookie();
        builder.Services.AddSingleton<AccountStore>();
        builder.Services.AddSingleton<StaffSessions>();
        return builder;
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/accounts").WithTags("Accounts");
        group.MapGet("/antiforgery", (HttpContext context, IAntiforgery antiforgery) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            return TypedResults.Ok(new AntiforgeryToken(tokens.RequestToken!, tokens.HeaderName!));
        }).WithSummary("A token to send in X-CSRF-TOKEN with every change made with the staff cookie.");
        group.MapPost("/login", Login).LimitPerAddress("login", _ => 20).WithSummary("Log in: sets the staff cookie.");
        group.MapPost("/logout", async (HttpContext context, StaffSessions sessions, CancellationToken ct) =>
        {
            // The session row ends, not just the browser's cookie: a copy of the cookie is dead too.
            var result = await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (result.Principal is { } principal) await sessions.EndAsync(principal, ct);
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return TypedResults.NoContent();
        }).WithSummary("Log out: ends the session in the store (every copy of the cookie stops working).");
        group.MapGet("/me", Me).RequireStaff();

        var admin = routes.MapGroup("/api/admin/accounts").WithTags("Accounts").RequireAdmin();
        admin.MapPost("/", Create).WithSummary("Create an admin or a unit-staff account scoped to a unit.");
        admin.MapGet("/", async (AccountStore store, UnitDirectory units, CancellationToken ct) =>
            TypedResults.Ok((await store.ListAsync(ct)).Select(account => Listed(account, units)).ToList()))
            .WithSummary("Every account, with its unit's place in the hierarchy.");
        return routes;
    }

    public sealed record AntiforgeryToken(string Token, string HeaderName);
    public sealed record LoginRequest(string? Name, string? Password);
    public sealed record StaffView(string Name, string Role, string? UnitCode, string? UnitName);
    /// <param name="UnitPlace">A region's path from its province ("安徽省 芜湖市 镜湖区": county names repeat across
    /// China), an organisation's name; null for an admin or a unit no longer in the hierarchy.</param>
    public sealed record AccountView(string Name, string Role, string? UnitCode, string? UnitPlace);
    public sealed record CreateRequest(string? Name, string? Password, string? Role, string? UnitCode);

    private static StaffView View(Account account, UnitDirectory units) => new StaffView(account.Name, account.Role, account.UnitCode,
        account.UnitCode is null ? null : units.Region(account.UnitCode)?.Name ?? units.Organisation(account.UnitCode)?.Name);

    private static AccountView Listed(Account account, UnitDirectory units) => new(account.Name, account.Role, account.UnitCode,
        account.UnitCode is null ? null
        : units.Region(account.UnitCode) is not null ? string.Join(" ", units.PathOf(account.UnitCode).Select(code => units.Region(code)!.Name))
        : units.Organisation(account.UnitCode)?.Name);

    private static async Task<Results<Ok<StaffView>, ProblemHttpResult>> Login(
        LoginRequest request, AccountStore store, StaffSessions sessions, UnitDirectory units, HttpContext context, CancellationToken ct)
    {
        var (account, lockedFor) = await store.VerifyAsync(request.Name, request.Password, ct);
        if (lockedFor is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed logins",
                detail: $"This name is locked for {seconds} s after repeated wrong passwords.");
        }
        if (account is null) return TypedResults.Problem(statusCode: 401, title: "Wrong name or password");
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, await sessions.OpenAsync(account, ct));
        return TypedResults.Ok(View(account, units));
    }

    private static Ok<StaffView> Me(ClaimsPrincipal user, UnitDirectory units) =>
        TypedResults.Ok(View(new Account(user.Identity!.Name!, user.FindFirstValue(ClaimTypes.Role)!, user.FindFirstValue(Access.UnitClaim)), units));

    private static async Task<Results<Created, ValidationProblem>> Create(CreateRequest request, AccountStore store, CancellationToken ct)
    {
        var errors = await store.CreateAsync(request.Name, request.Password, request.Role, request.UnitCode, ct);
        return errors.Count > 0 ? TypedResults.ValidationProblem(errors) : TypedResults.Created($"/api/admin/accounts/{request.Name}");
    }
}
