using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Quiz.Server.Hosting;
using Quiz.Server.Security;
using Quiz.Server.Units;

namespace Quiz.Server.Participants;

/// <summary>Section "RateLimits": per-address limits on what bots would hammer.</summary>
public sealed record RateLimitOptions
{
    public const string Section = "RateLimits";
    public int RegistrationsPerMinutePerAddress { get; init; } = 30;
    public int RoundStartsPerMinutePerParticipant { get; init; } = 20;
    public int RoundStartsPerMinutePerAddress { get; init; } = 600;

    public void Validate()
    {
        if (RegistrationsPerMinutePerAddress < 1 || RoundStartsPerMinutePerParticipant < 1 || RoundStartsPerMinutePerAddress < 1)
            throw new ArgumentException("RateLimits: every limit must be at least 1 a minute.");
    }
}

public static class ParticipantsApi
{
    public static IHostApplicationBuilder AddParticipants(this IHostApplicationBuilder builder)
    {
        builder.AddSettings<ParticipantOptions>(ParticipantOptions.Section, o => o.Validate());
        builder.AddSettings<RateLimitOptions>(RateLimitOptions.Section, o => o.Validate());
        builder.AddSettings<VerificationOptions>(VerificationOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<ParticipantTokens>();
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ParticipantAuthentication>(Access.Schemes.Participant, null);
        builder.Services.AddSingleton<ParticipantRegistry>();
        builder.Services.AddSingleton<Verifications>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<VerificationOptions>>().Value);
        // The seam a national deployment fills (README, "Verification codes"): add its sender here under its own name.
        builder.Services.AddSingleton<IVerificationSender>(sp =>
            sp.GetRequiredService<VerificationOptions>().Provider switch
            {
                VerificationOptions.LogProvider => ActivatorUtilities.CreateInstance<LogVerificationSender>(sp),
                var other => throw new InvalidOperationException($"Verification:Provider '{other}' is unknown; the embedded run has '{VerificationOptions.LogProvider}'."),
            });
        // Read now: a missing or unreadable block list stops the start, not the first registration.
        _ = NicknameRules.Blocked;

        return builder;
    }

    public static IEndpointRouteBuilder MapParticipants(this IEndpointRouteBuilder routes)
    {
        // Resolved now, so a misspelt Verification:Provider stops the start rather than the first registration.
        routes.ServiceProvider.GetRequiredService<IVerificationSender>();
        var group = routes.MapGroup("/api/participants").WithTags("Participants");
        group.MapPost("/register", Register)
            .LimitPerAddress("registration", services => services.GetRequiredService<IOptions<RateLimitOptions>>().Value.RegistrationsPerMinutePerAddress)
            .WithSummary("Send a verification code to the number; the same answer whether the number is registered or not.");
        group.MapPost("/verify", Verify)
            .WithSummary("Prove the number with its code and get the participant token (the participant is created for a new number).");
        group.MapGet("/me", Me).RequireAuthorization(Security.Access.ParticipantPolicy).WithSummary("The participant behind the token.");
        return routes;
    }

    public sealed record RegionRef(string Code, string Name);
    public sealed record OrganisationRef(string Code, string Name, string Type);

    public sealed record ParticipantView(
        long ParticipantId, string Nickname, string MobileMasked, string Track, IReadOnlyList<RegionRef> Region, OrganisationRef? Organisation);

    public sealed record Registered(string Token, ParticipantView Participant);

    private static ParticipantView View(Participant p, UnitDirectory units) => new(
        p.Id, p.Nickname, p.MobileMasked, p.Track,
        units.PathOf(p.RegionCode).Select(c => new RegionRef(c, units.Region(c)!.Name)).ToList(),
        p.OrganisationCode is { } code && units.Organisation(code) is { } o ? new OrganisationRef(o.Code, o.Name, o.Type) : null);

    /// <summary>The answer to every accepted registration, whoever the number belongs to.</summary>
    public sealed record VerificationSent(string VerificationId, int ExpiresInSeconds, int ResendAfterSeconds);

    public sealed record VerifyRequest(string? VerificationId, string? Code);

    /// <summary>
    /// Never a token and never anyone's data: that needs the code (issue 10). Nothing here looks
    /// the number up, so a registered number and a new one take the same path and get the same answer.
    /// </summary>
    private static async Task<Results<Accepted<VerificationSent>, ValidationProblem, ProblemHttpResult>> Register(
        ParticipantRegistry.Registration registration, ParticipantRegistry registry, Verifications verifications, IVerificationSender sender,
        Rewards.RewardStore rewards, VerificationOptions settings, HttpResponse response, ILogger<Verifications> logger, CancellationToken ct)
    {
        var (profile, errors) = registry.Validate(registration);
        // An invitation names the inviter, never the number registering: looking it up tells nothing about the number.
        long? inviter = null;
        if (registration.InviteCode is { Length: > 0 } invite && (inviter = await rewards.InviterAsync(invite, ct)) is null)
            errors["inviteCode"] = ["no invitation with this code: register without it, or check the link"];
        if (profile is null || errors.Count > 0) return TypedResults.ValidationProblem(errors);
        profile = profile with { InvitedBy = inviter };
        var (started, code) = await verifications.StartAsync(profile, ct);
        if (started.Refusal != Verifications.Refusal.None)
        {
            response.Headers.RetryAfter = started.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return started.Refusal == Verifications.Refusal.ResendTooSoon
                ? Refused(StatusCodes.Status429TooManyRequests, "resend-too-soon", "A code was sent to this number moments ago: wait before asking again.",
                    started.RetryAfterSeconds)
                : Refused(StatusCodes.Status429TooManyRequests, "daily-limit", "This number has had as many codes as a day allows.", started.RetryAfterSeconds);
        }
        try
        {
            await sender.SendAsync(new VerificationMessage(profile.Mobile, code!, started.VerificationId!, TimeSpan.FromSeconds(settings.CodeSeconds)), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Sending a verification code failed");
            return Refused(StatusCodes.Status503ServiceUnavailable, "send-failed", "The code could not be sent: try again in a minute.");
        }
        return TypedResults.Accepted((string?)null, new VerificationSent(started.VerificationId!, settings.CodeSeconds, settings.ResendSeconds));
    }

    private static async Task<Results<Ok<Registered>, ValidationProblem, ProblemHttpResult>> Verify(
        VerifyRequest request, Verifications verifications, ParticipantRegistry registry, ParticipantTokens tokens, UnitDirectory units, CancellationToken ct)
    {
        if (request.Code is not { Length: 6 } code || !code.All(char.IsAsciiDigit))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["code"] = ["the 6 digits of the code sent to the number"] });
        // Ids are 22 characters; anything else was never issued (and is not worth a look-up).
        if (request.VerificationId is not { Length: 22 } verificationId) return Invalid();
        var result = await verifications.VerifyAsync(verificationId, code, ct);
        switch (result.Outcome)
        {
            case Verifications.Outcome.WrongCode:
                return Refused(StatusCodes.Status400BadRequest, "wrong-code", "The code is wrong.", attemptsLeft: result.AttemptsLeft);
            case Verifications.Outcome.TooManyAttempts:
                return Refused(StatusCodes.Status400BadRequest, "too-many-attempts", "The code was wrong too many times: register again for a new code.");
            case Verifications.Outcome.Invalid:
                return Invalid();
        }
        // Only once the transaction that created them has committed, as WriteAsync returns.
        var participant = result.Created is { } created ? registry.Remember(created)
            : await registry.GetAsync(result.ParticipantId, ct) ?? throw new InvalidOperationException("A verified participant is missing.");
        return TypedResults.Ok(new Registered(tokens.Issue(participant.Id), View(participant, units)));
    }

    /// <summary>One answer for an id never issued, expired, used or voided: they are all "start again".</summary>
    private static ProblemHttpResult Invalid() =>
        Refused(StatusCodes.Status400BadRequest, "verification-invalid", "This code has expired or was already used: register again for a new code.");

    private static ProblemHttpResult Refused(int status, string code, string title, int? retryAfterSeconds = null, int? attemptsLeft = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (retryAfterSeconds is { } retry) extensions["retryAfterSeconds"] = retry;
        if (attemptsLeft is { } left) extensions["attemptsLeft"] = left;
        return TypedResults.Problem(statusCode: status, title: title, extensions: extensions);
    }

    private static async Task<Results<Ok<ParticipantView>, NotFound>> Me(
        System.Security.Claims.ClaimsPrincipal user, ParticipantRegistry registry, UnitDirectory units, CancellationToken ct) =>
        await registry.GetAsync(user.ParticipantId(), ct) is { } p ? TypedResults.Ok(View(p, units)) : TypedResults.NotFound();
}
