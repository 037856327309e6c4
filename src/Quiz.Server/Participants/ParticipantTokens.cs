using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Quiz.Server.Storage;

namespace Quiz.Server.Participants;

/// <summary>Section "Participants".</summary>
public sealed record ParticipantOptions
{
    public const string Section = "Participants";
    /// <summary>
    /// Key for mobile-number hashes and token signatures; generated into the data folder when empty
    /// (one node only). Required on a shared store (<c>Storage:Provider=Postgres</c>): every node
    /// must hash numbers and sign tokens alike.
    /// </summary>
    public string? Secret { get; init; }
    public int TokenDays { get; init; } = 30;

    public void Validate()
    {
        if (TokenDays is < 1 or > 3650) throw new ArgumentException("Participants:TokenDays must be 1 to 3650.");
    }
}

/// <summary>
/// The server's secret, and what it signs: keyed hashes of mobile numbers (never stored in clear),
/// of verification codes, and participant tokens "id.expiry.signature" that the hub accepts.
/// </summary>
public sealed class ParticipantTokens
{
    private readonly byte[] _hashKey;
    private readonly byte[] _signKey;
    private readonly byte[] _codeKey;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _lifetime;

    public ParticipantTokens(IOptions<ParticipantOptions> options, IOptions<StorageOptions> storage, TimeProvider clock, ILogger<ParticipantTokens> logger)
    {
        var secret = options.Value.Secret;
        if (string.IsNullOrWhiteSpace(secret) && storage.Value.Provider == StorageProvider.Postgres)
            // Each node has a data folder of its own: secrets generated there would differ, and a
            // token or a number's hash made on one node would mean nothing on another.
            throw new InvalidOperationException(
                "Participants:Secret is required when Storage:Provider is Postgres: the nodes of one store must share one participant secret (set the same value on every node, once: changing it voids every token and number hash).");
        if (string.IsNullOrWhiteSpace(secret))
        {
            var file = Path.Combine(Path.GetFullPath(storage.Value.DataDir), "participant.secret");
            secret = DataFolder.ReadOrCreateSecret(file, () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), logger);
        }
        // Separate keys from one secret, so a number or code hash can never pass for a token signature.
        _hashKey = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), "mobile"u8);
        _signKey = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), "token"u8);
        _codeKey = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), "verification"u8);
        _clock = clock;
        _lifetime = TimeSpan.FromDays(options.Value.TokenDays);
    }

    public string HashMobile(string normalised) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_hashKey, Encoding.UTF8.GetBytes(normalised)));

    /// <summary>
    /// A keyed hash of a verification code, bound to its verification: a copy of the store alone
    /// does not give the code away (a million codes are quickly tried against a plain hash).
    /// </summary>
    public byte[] HashCode(string verificationId, string code) =>
        HMACSHA256.HashData(_codeKey, Encoding.UTF8.GetBytes($"{verificationId}:{code}"));

    public string Issue(long participantId)
    {
        var payload = $"{participantId}.{(_clock.GetUtcNow() + _lifetime).ToUnixTimeSeconds()}";
        return $"{payload}.{Sign(payload)}";
    }

    /// <summary>The participant id, or null for a forged, damaged or expired token.</summary>
    public long? Validate(string? token)
    {
        if (token is null || token.Length > 200) return null;
        var parts = token.Split('.');
        if (parts.Length != 3 || !long.TryParse(parts[0], out var id) || !long.TryParse(parts[1], out var expires)) return null;
        var expected = Encoding.ASCII.GetBytes(Sign($"{parts[0]}.{parts[1]}"));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[2]))) return null;
        return _clock.GetUtcNow().ToUnixTimeSeconds() < expires ? id : null;
    }

    private string Sign(string payload) =>
        WebEncoders.Base64UrlEncode(HMACSHA256.HashData(_signKey, Encoding.UTF8.GetBytes(payload)));
}
