using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Quiz.Server.Hosting;
using Quiz.Server.Security;
using Quiz.Server.Storage;

namespace Quiz.Server.Admin;

/// <summary>Section "Admin": the key scripts send in X-Admin-Key to call admin endpoints.</summary>
public sealed record AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// When empty, a random key is generated on first start and kept in the data folder: one node
    /// only. On a shared store (<c>Storage:Provider=Postgres</c>) it is required, so every node
    /// takes the same key.
    /// </summary>
    public string? ApiKey { get; init; }
}

public sealed class AdminKey
{
    public const string Header = Access.AdminKeyHeader;
    private readonly byte[] _key;

    public AdminKey(IOptions<AdminOptions> options, IOptions<StorageOptions> storage, ILogger<AdminKey> logger)
    {
        var key = options.Value.ApiKey;
        if (string.IsNullOrWhiteSpace(key) && storage.Value.Provider == StorageProvider.Postgres)
            // Each node has a data folder of its own: keys generated there would differ from node to node.
            throw new InvalidOperationException(
                "Admin:ApiKey is required when Storage:Provider is Postgres: the nodes of one store must share one admin key (set the same value on every node).");
        if (string.IsNullOrWhiteSpace(key))
        {
            var file = Path.Combine(Path.GetFullPath(storage.Value.DataDir), "admin.key");
            key = DataFolder.ReadOrCreateSecret(file, () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), logger);
            logger.LogInformation("Admin key (X-Admin-Key) is in {File}", file);
        }
        _key = Encoding.UTF8.GetBytes(key);
    }

    public bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _key);
}

public static class AdminExtensions
{
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<AdminOptions>(AdminOptions.Section);
        builder.Services.AddSingleton<AdminKey>();
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyAuthentication>(Access.Schemes.AdminKey, null);
        return builder;
    }
}

/// <summary>Scripts (and the tests) call admin endpoints with the configured key in X-Admin-Key.</summary>
public sealed class AdminKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminKey key)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(AdminKey.Header, out var value)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!key.Matches(value)) return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin-key"), new Claim(ClaimTypes.Role, Roles.Admin)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
