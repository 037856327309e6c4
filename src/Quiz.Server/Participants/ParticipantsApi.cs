using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Quiz.Server.Units;

namespace Quiz.Server.Participants;

/// <summary>Section "RateLimits": per-address limits on what bots would hammer.</summary>
public sealed record RateLimitOptions
{
    public const string Section = "RateLimits";
    public int RegistrationsPerMinutePerAddress { get; init; } = 30;
    public int RoundStartsPerMinutePerParticipant { get; init; } = 20;
    public int RoundStartsPerMinutePerAddress { get; init; } = 600;
}

public static class ParticipantsApi
{
    public const string RegistrationPolicy = "registration";

    public static IHostApplicationBuilder AddParticipants(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<ParticipantOptions>(builder.Configuration.GetSection(ParticipantOptions.Section));
        builder.Services.Configure<RateLimitOptions>(builder.Configuration.GetSection(RateLimitOptions.Section));
        builder.Services.AddSingleton<ParticipantTokens>();
        builder.Services.AddSingleton<ParticipantRegistry>();
        // Read now: a missing or unreadable block list stops the start, not the first registration.
        _ = NicknameRules.Blocked;

        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(RegistrationPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>().Value.RegistrationsPerMinutePerAddress,
                    Window = TimeSpan.FromMinutes(1),
                }));
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapParticipants(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/participants").WithTags("Participants");
        group.MapPost("/register", Register).RequireRateLimiting(RegistrationPolicy)
            .WithSummary("Register once (or again with the same number) and get the participant token.");
        group.MapGet("/me", Me).RequireAuthorization(Accounts.Authentication.ParticipantPolicy).WithSummary("The participant behind the token.");
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

    private static async Task<Results<Ok<Registered>, ValidationProblem>> Register(
        ParticipantRegistry.Registration registration, ParticipantRegistry registry, ParticipantTokens tokens, UnitDirectory units, CancellationToken ct)
    {
        var (participant, errors) = await registry.RegisterAsync(registration, ct);
        if (participant is null) return TypedResults.ValidationProblem(errors);
        return TypedResults.Ok(new Registered(tokens.Issue(participant.Id), View(participant, units)));
    }

    private static async Task<Results<Ok<ParticipantView>, NotFound>> Me(
        System.Security.Claims.ClaimsPrincipal user, ParticipantRegistry registry, UnitDirectory units, CancellationToken ct) =>
        await registry.GetAsync(user.ParticipantId(), ct) is { } p ? TypedResults.Ok(View(p, units)) : TypedResults.NotFound();
}
