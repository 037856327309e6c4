using Dapper;
using Microsoft.AspNetCore.Identity;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Accounts;

public sealed record Account(string Name, string Role, string? UnitCode);

public static class Roles
{
    public const string Admin = "admin";
    public const string UnitStaff = "unit-staff";
}

/// <summary>Staff accounts: created by admins (the first one from the command line), checked at login.</summary>
public sealed class AccountStore(Database database, UnitDirectory units, TimeProvider clock)
{
    private static readonly PasswordHasher<string> Hasher = new();

    public async Task<Dictionary<string, string[]>> CreateAsync(string? name, string? password, string? role, string? unitCode, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 40 || name.Any(char.IsControl) || name.Contains(' '))
            errors["name"] = ["a name of 1 to 40 characters without spaces"];
        if (password is null || password.Length < 10 || password.Length > 200) errors["password"] = ["at least 10 characters"];
        if (role is not (Roles.Admin or Roles.UnitStaff)) errors["role"] = ["admin or unit-staff"];
        if (role == Roles.UnitStaff && (unitCode is null || units.Region(unitCode) is null && units.Organisation(unitCode) is null))
            errors["unitCode"] = ["a region or organisation code from the unit list"];
        if (errors.Count > 0) return errors;

        await using var connection = await database.OpenAsync(ct);
        var inserted = await connection.ExecuteAsync("""
            INSERT INTO accounts (name, password_hash, role, unit_code, created_at) VALUES (@name, @hash, @role, @unit, @now)
            ON CONFLICT (name) DO NOTHING
            """, new { name, hash = Hasher.HashPassword(name!, password!), role, unit = role == Roles.Admin ? null : unitCode, now = clock.GetUtcNow().ToString("O") });
        if (inserted == 0) errors["name"] = ["an account with this name exists"];
        return errors;
    }

    /// <summary>The account, when the password is right.</summary>
    public async Task<Account?> VerifyAsync(string? name, string? password, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(password) || name.Length > 40 || password.Length > 200) return null;
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(string Name, string Hash, string Role, string? Unit)>(
            "SELECT name, password_hash, role, unit_code FROM accounts WHERE name = @name", new { name });
        if (row.Name is null) return null;
        return Hasher.VerifyHashedPassword(row.Name, row.Hash, password) == PasswordVerificationResult.Failed
            ? null
            : new Account(row.Name, row.Role, row.Unit);
    }

    public async Task<List<Account>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<Account>("SELECT name, role, unit_code AS UnitCode FROM accounts ORDER BY name")).ToList();
    }
}
