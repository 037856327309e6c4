namespace Quiz.Server.Play;

/// <summary>
/// Published after a finished round is committed. Carries what projections need so they never
/// read the round back. <see cref="ResultId"/> follows commit order and makes consumers idempotent.
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
