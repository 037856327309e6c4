using System.Security.Claims;
using Quiz.Server.Units;
using Quiz.Server.Security;

namespace Quiz.Server.Dashboard;

/// <summary>
/// What a staff member may see: admins everything; unit staff their own unit and everything below
/// it (regions under a region, organisations located there), never a sibling's or a parent's data.
/// </summary>
public sealed class UnitScope(UnitDirectory units)
{
    public static string? UnitOf(ClaimsPrincipal user) =>
        user.IsInRole(Roles.Admin) ? null : user.FindFirstValue(Access.UnitClaim) ?? "";

    /// <summary>May this user see <paramref name="code"/> (null = the whole country)?</summary>
    public bool Allows(ClaimsPrincipal user, string? code)
    {
        if (user.IsInRole(Roles.Admin)) return true;
        var own = UnitOf(user);
        if (string.IsNullOrEmpty(own) || code is null) return false;
        if (code == own) return true;
        if (units.Region(code) is not null) return units.PathOf(code).Contains(own);
        if (units.Organisation(code) is { } organisation) return units.PathOf(organisation.RegionCode).Contains(own);
        return false;
    }
}
