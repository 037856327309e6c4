using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Quiz.Server.Storage;
using Quiz.Server.Security;

namespace Quiz.Server.Accounts;

/// <summary>
/// Staff sessions in the store. The cookie only names a session; each request checks the row
/// (open, not expired) and the account behind it (still there, same role, same unit), so logout,
/// a removed account or a changed scope take effect at once on every node, and a cookie forged or
/// minted elsewhere with the same key ring names no session of this store.
/// </summary>
public sealed class StaffSessions(Database database, TimeProvider clock)
{
    public const string SessionClaim = "sid";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    public async Task<ClaimsPrincipal> OpenAsync(Account account, CancellationToken ct = default)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync("""
            INSERT INTO staff_sessions (id, account_name, role, unit_code, created_at, expires_at)
            VALUES (@id, @Name, @Role, @UnitCode, @created, @expires)
            """, new { id, account.Name, account.Role, account.UnitCode, created = now.ToString("O"), expires = (now + Lifetime).ToString("O") });
        return StaffCookie.Principal(account, id);
    }

    public async Task EndAsync(ClaimsPrincipal user, CancellationToken ct = default)
    {
        if (user.FindFirstValue(SessionClaim) is not { } id) return;
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync("UPDATE staff_sessions SET ended_at = @now WHERE id = @id AND ended_at IS NULL",
            new { id, now = clock.GetUtcNow().ToString("O") });
    }

    /// <summary>True when the cookie's session is open and its account still has the role and unit the cookie says.</summary>
    public async Task<bool> IsValidAsync(ClaimsPrincipal user, CancellationToken ct = default)
    {
        if (user.FindFirstValue(SessionClaim) is not { } id) return false;
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(string? Name, string Role, string? Unit, string Expires)>("""
            SELECT a.name, a.role, a.unit_code, s.expires_at
            FROM staff_sessions s JOIN accounts a ON a.name = s.account_name
            WHERE s.id = @id AND s.ended_at IS NULL AND s.role = a.role AND s.unit_code IS NOT DISTINCT FROM a.unit_code
            """, new { id });
        return row.Name is not null
            && string.Equals(row.Name, user.Identity?.Name, StringComparison.OrdinalIgnoreCase)
            && row.Role == user.FindFirstValue(ClaimTypes.Role)
            && row.Unit == user.FindFirstValue(Access.UnitClaim)
            && DateTimeOffset.Parse(row.Expires) > clock.GetUtcNow();
    }

    /// <summary>The cookie handler's hook: a cookie whose session is not valid signs the caller out.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var sessions = context.HttpContext.RequestServices.GetRequiredService<StaffSessions>();
        if (context.Principal is { } principal && await sessions.IsValidAsync(principal, context.HttpContext.RequestAborted)) return;
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }
}
