namespace Quiz.Server.Play;

/// <summary>
/// The rounds finished on a node within a few milliseconds, published as one message once they
/// are committed (<see cref="Events.CompletedRounds"/>): the bus's cost is per message, and one a
/// round was the largest single part of the server's CPU at saturation (issue 12).
/// </summary>
public sealed record RoundsCompleted(IReadOnlyList<RoundCompleted> Rounds);

/// <summary>
/// A finished round as committed. Carries what projections need so they never read the round
/// back. <see cref="ResultId"/> follows commit order and makes consumers idempotent.
/// </summary>
public sealed record RoundCompleted(
    long ResultId,
    string RoundId,
    string CampaignId,
    string StageId,
    long ParticipantId,
    DateOnly Day,
    int Score,
    int MaxScore,
    int DurationMs,
    DateTimeOffset FinishedAt,
    IReadOnlyList<string> RegionPath,
    string? OrganisationCode,
    string? OrganisationType,
    bool FirstInCampaign,
    bool FirstOfDay,
    IReadOnlyList<CompletedAnswer> Answers);

/// <summary>One answer: <see cref="Chosen"/> holds bank letters in the bank's option order, "" when unanswered.</summary>
public sealed record CompletedAnswer(string QuestionId, int QuestionVersion, string Chosen, bool Correct);
