using Dapper;
using Microsoft.AspNetCore.Identity;
using Quiz.Server.Security;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Accounts;

public sealed record Account(string Name, string Role, string? UnitCode);

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

    /// <summary>Failures of one name before it is locked, and the first lock; each further failure doubles it.</summary>
    public const int FreeFailures = 5;
    public static readonly TimeSpan FirstLock = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan LongestLock = TimeSpan.FromMinutes(15);

    public sealed record LoginOutcome(Account? Account, TimeSpan? LockedFor);

    /// <summary>
    /// The account when the password is right. Failures are counted per name, whether or not an
    /// account has it (so a lock says nothing about which names exist); after
    /// <see cref="FreeFailures"/> the name is locked with a doubling back-off, and while locked no
    /// password is even checked. Per name, not per address: 60 addresses with one guess each are
    /// still 60 guesses at one account.
    /// </summary>
    public async Task<LoginOutcome> VerifyAsync(string? name, string? password, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(password) || name.Length > 40 || password.Length > 200) return new(null, null);
        var now = clock.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        var locked = await connection.ExecuteScalarAsync<string?>("SELECT locked_until FROM login_failures WHERE name = @name", new { name });
        if (locked is not null && DateTimeOffset.Parse(locked) is var until && until > now) return new(null, until - now);

        var row = await connection.QuerySingleOrDefaultAsync<(string Name, string Hash, string Role, string? Unit)>(
            "SELECT name, password_hash, role, unit_code FROM accounts WHERE name = @name", new { name });
        // An unknown name costs a hash check too, so timing does not tell which names exist.
        bool ok;
        if (row.Name is null)
        {
            Hasher.VerifyHashedPassword(name, UnknownHash, password);
            ok = false;
        }
        else ok = Hasher.VerifyHashedPassword(row.Name, row.Hash, password) != PasswordVerificationResult.Failed;
        if (ok)
        {
            await connection.ExecuteAsync("DELETE FROM login_failures WHERE name = @name", new { name });
            return new(new Account(row.Name!, row.Role, row.Unit), null);
        }
        var failures = await connection.ExecuteScalarAsync<int>("""
            INSERT INTO login_failures (name, failures) VALUES (@name, 1)
            ON CONFLICT (name) DO UPDATE SET failures = login_failures.failures + 1
            RETURNING failures
            """, new { name });
        if (failures < FreeFailures) return new(null, null);
        var lockFor = TimeSpan.FromTicks(Math.Min(LongestLock.Ticks, FirstLock.Ticks << Math.Min(failures - FreeFailures, 20)));
        await connection.ExecuteAsync("UPDATE login_failures SET locked_until = @until WHERE name = @name",
            new { name, until = (now + lockFor).ToString("O") });
        return new(null, lockFor);
    }

    private static readonly string UnknownHash = Hasher.HashPassword("", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));

    public async Task<List<Account>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<Account>("SELECT name, role, unit_code AS UnitCode FROM accounts ORDER BY name")).ToList();
    }
}
