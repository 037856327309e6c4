using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.WebUtilities;
using Quiz.Server.Storage;

namespace Quiz.Server.Participants;

/// <summary>Section "Verification": how a number is proven before anyone's data is shown.</summary>
public sealed record VerificationOptions
{
    public const string Section = "Verification";
    public const string LogProvider = "Log";

    /// <summary>Who delivers the code: <c>Log</c> (the embedded run: the server's console) or a provider a deployment adds.</summary>
    public string Provider { get; init; } = LogProvider;
    public int CodeSeconds { get; init; } = 300;
    public int MaxAttempts { get; init; } = 5;
    /// <summary>Least time between two codes to one number.</summary>
    public int ResendSeconds { get; init; } = 60;
    /// <summary>Most codes to one number in any 24 hours: each one is an SMS someone pays for.</summary>
    public int SendsPerDay { get; init; } = 10;

    public void Validate()
    {
        if (CodeSeconds is < 30 or > 3600) throw new InvalidOperationException("Verification:CodeSeconds must be 30 to 3600.");
        if (MaxAttempts is < 1 or > 10) throw new InvalidOperationException("Verification:MaxAttempts must be 1 to 10.");
        if (ResendSeconds is < 0 or > 3600) throw new InvalidOperationException("Verification:ResendSeconds must be 0 to 3600.");
        if (SendsPerDay < 1) throw new InvalidOperationException("Verification:SendsPerDay must be at least 1.");
    }
}

/// <summary>One code to deliver. <see cref="VerificationId"/> is for the operator's log, never part of the text a person gets.</summary>
public sealed record VerificationMessage(string Mobile, string Code, string VerificationId, TimeSpan ValidFor);

/// <summary>
/// Delivers a verification code to a mobile number: the seam a national deployment fills with its
/// SMS gateway (or replaces with WeChat's phone-number authorisation).
/// </summary>
public interface IVerificationSender
{
    Task SendAsync(VerificationMessage message, CancellationToken ct);
}

/// <summary>
/// The embedded run has no SMS gateway: the code goes to the server's log at Warning, so it shows in
/// the console of <c>dotnet run</c> (and in any log a test or the load generator reads). The number
/// is masked there, as everywhere else.
/// </summary>
public sealed class LogVerificationSender(ILogger<LogVerificationSender> logger) : IVerificationSender
{
    public Task SendAsync(VerificationMessage message, CancellationToken ct)
    {
        logger.LogWarning("verification code for {Mobile}: {Code} (verification {VerificationId})",
            ParticipantRegistry.Mask(message.Mobile), message.Code, message.VerificationId);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Pending registrations waiting for their code, in the store (rule 8: another node or a restart
/// accepts the code). Starting one does the same work whether the number is registered or not and
/// answers the same; only a verified code creates or reveals a participant.
/// </summary>
public sealed class Verifications(StoreWriter writer, ParticipantTokens tokens, VerificationOptions options, TimeProvider clock)
{
    public enum Refusal { None, ResendTooSoon, DailyLimit }

    /// <summary>When this node last swept expired codes and old sends (Unix ms).</summary>
    private long _lastSweep;

    public sealed record Started(string? VerificationId, Refusal Refusal, int RetryAfterSeconds);

    public enum Outcome { Verified, WrongCode, TooManyAttempts, Invalid }

    /// <param name="Created">The participant when this verification created them (a new number), so the caller need not read them back.</param>
    public sealed record Checked(Outcome Outcome, long ParticipantId = 0, int AttemptsLeft = 0, Participant? Created = null);

    /// <summary>Stores the pending registration with a new code and counts the send; the caller then sends the code.</summary>
    public async Task<(Started Started, string? Code)> StartAsync(ParticipantRegistry.Profile profile, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var id = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6");
        var row = new
        {
            Id = id, MobileHash = tokens.HashMobile(profile.Mobile), Masked = ParticipantRegistry.Mask(profile.Mobile), profile.Nickname,
            profile.RegionCode, profile.OrganisationCode, profile.Track, profile.InvitedBy, CodeHash = Convert.ToHexStringLower(tokens.HashCode(id, code)),
            Now = now, DayAgo = now - Day, ExpiresAt = now + options.CodeSeconds * 1000L,
        };
        var sweep = Interlocked.Exchange(ref _lastSweep, now) < now - 1000;
        var started = await writer.WriteAsync(async (connection, tx) =>
        {
            // Expired codes and day-old sends go here rather than in a sweeper, at most once a
            // second: in a registration burst two more statements each would be most of its cost.
            if (sweep)
                await connection.ExecuteAsync("""
                    DELETE FROM verifications WHERE expires_at <= @Now;
                    DELETE FROM verification_sends WHERE sent_at <= @DayAgo;
                    """, row, tx);
            var sends = await connection.QuerySingleAsync<(long Count, long? Oldest, long? Latest)>(
                "SELECT COUNT(*), MIN(sent_at), MAX(sent_at) FROM verification_sends WHERE mobile_hash = @MobileHash AND sent_at > @DayAgo", row, tx);
            if (sends.Latest is { } latest && now - latest < options.ResendSeconds * 1000L)
                return new Started(null, Refusal.ResendTooSoon, Seconds(latest + options.ResendSeconds * 1000L - now));
            if (sends.Count >= options.SendsPerDay)
                return new Started(null, Refusal.DailyLimit, Seconds(sends.Oldest!.Value + Day - now));
            await connection.ExecuteAsync("""
                INSERT INTO verifications (id, mobile_hash, mobile_masked, nickname, region_code, organisation_code, track, code_hash, expires_at, invited_by)
                VALUES (@Id, @MobileHash, @Masked, @Nickname, @RegionCode, @OrganisationCode, @Track, @CodeHash, @ExpiresAt, @InvitedBy);
                INSERT INTO verification_sends (mobile_hash, sent_at) VALUES (@MobileHash, @Now);
                """, row, tx);
            return new Started(id, Refusal.None, 0);
        }, ct);
        return (started, started.Refusal == Refusal.None ? code : null);
    }

    private sealed record Pending(string MobileHash, string MobileMasked, string Nickname, string RegionCode, string? OrganisationCode,
        string Track, string CodeHash, long Attempts, long ExpiresAt, long? InvitedBy);

    /// <summary>
    /// Checks a code. Right: the verification is used up and the participant for the number is
    /// created (new number, with the profile given at register) or found (known number, as first
    /// registered). Wrong: one attempt fewer; the last wrong attempt voids the verification.
    /// </summary>
    public async Task<Checked> VerifyAsync(string verificationId, string code, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        // Hashed before the look-up, so an unknown id costs what a known one does.
        var given = tokens.HashCode(verificationId, code);
        return await writer.WriteAsync(async (connection, tx) =>
        {
            var pending = await connection.QuerySingleOrDefaultAsync<Pending>("""
                SELECT mobile_hash AS MobileHash, mobile_masked AS MobileMasked, nickname, region_code AS RegionCode,
                       organisation_code AS OrganisationCode, track, code_hash AS CodeHash, attempts, expires_at AS ExpiresAt, invited_by AS InvitedBy
                FROM verifications WHERE id = @verificationId
                """, new { verificationId }, tx);
            if (pending is null || pending.ExpiresAt <= now.ToUnixTimeMilliseconds() || pending.Attempts >= options.MaxAttempts)
                return new Checked(Outcome.Invalid);
            if (!CryptographicOperations.FixedTimeEquals(given, Convert.FromHexString(pending.CodeHash)))
            {
                var attempts = (int)pending.Attempts + 1;
                if (attempts >= options.MaxAttempts)
                {
                    await connection.ExecuteAsync("DELETE FROM verifications WHERE id = @verificationId", new { verificationId }, tx);
                    return new Checked(Outcome.TooManyAttempts);
                }
                await connection.ExecuteAsync("UPDATE verifications SET attempts = @attempts WHERE id = @verificationId", new { attempts, verificationId }, tx);
                return new Checked(Outcome.WrongCode, AttemptsLeft: options.MaxAttempts - attempts);
            }
            await connection.ExecuteAsync("DELETE FROM verifications WHERE id = @verificationId", new { verificationId }, tx);
            var (id, created) = await ParticipantRegistry.CreateOrFindAsync(connection, tx, new ParticipantRegistry.NewParticipant(
                pending.MobileHash, pending.MobileMasked, pending.Nickname, pending.RegionCode, pending.OrganisationCode, pending.Track, now.ToString("O"), pending.InvitedBy));
            return new Checked(Outcome.Verified, id, Created: created
                ? new Participant(id, pending.Nickname, pending.MobileMasked, pending.RegionCode, pending.OrganisationCode, pending.Track)
                : null);
        }, ct);
    }

    private const long Day = 24 * 3600 * 1000L;

    private static int Seconds(long milliseconds) => (int)Math.Max(1, (milliseconds + 999) / 1000);
}
