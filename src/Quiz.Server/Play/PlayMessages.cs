using System.Text.Json.Serialization;

namespace Quiz.Server.Play;

// What travels over /hubs/play. docs/protocol.md describes each one for client writers.

/// <param name="Scene">The scene to play, when the stage has scenes (then required); one scene a day where the stage says so.</param>
public sealed record StartRoundRequest(string CampaignId, string? Scene = null);

/// <summary>A question as the player sees it: options in this player's order, no key.</summary>
public sealed record QuestionView(int Position, string QuestionId, string Type, string Stem, IReadOnlyList<string> Options);

/// <summary>An answer given so far, for a resumed round.</summary>
public sealed record GivenAnswer(int Position, IReadOnlyList<int> Choices, AnswerResult? Result);

public sealed record RoundView(
    string RoundId, string CampaignId, string StageId, IReadOnlyList<QuestionView> Questions,
    DateTimeOffset StartedAt, DateTimeOffset Deadline, DateTimeOffset ServerNow, int? QuestionSeconds,
    bool ShowAnswers, int AttemptsLeft, IReadOnlyList<GivenAnswer> Answers, string? Scene);

/// <param name="Finish">
/// Finish the round with this answer, as a Finish right after it would: the reply carries the
/// round's result (<see cref="AnswerResult.Result"/>), committed first. A phone sends it with its
/// last answer and saves the Finish call, one round trip on a weak network.
/// </param>
public sealed record AnswerRequest(string RoundId, int Position, int[] Choices, bool Finish = false);

/// <summary>
/// The outcome of one answer. <see cref="Key"/> and <see cref="Explanation"/> are null when the
/// stage does not show answers during the round. <see cref="Result"/>: the round's result when the
/// answer asked to finish it, else left out of the message.
/// </summary>
public sealed record AnswerResult(int Position, bool Correct, bool Late, IReadOnlyList<int>? Key, string? Explanation,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RoundResult? Result = null);

public sealed record FinishRequest(string RoundId);

/// <summary>
/// A finished round, sent only after it is committed to the store. The person's places: on the
/// national board, their county's (the lowest unit) and their organisation's (null without one),
/// each a 1-based rank with the board's size ("第 N 名 / 共 M 人"); when <see cref="RankPending"/>
/// the ranking could not be reached and they follow later; null on a stage without personal
/// ranking. <see cref="Ladder"/>: the scene's ladder after this round, on a stage with ladders
/// (2025's roles), else null.
/// </summary>
public sealed record RoundResult(
    string RoundId, int Score, int MaxScore, int Correct, int QuestionCount, int DurationMs, bool AutoFinished,
    long? NationalRank, long? NationalBoardSize, long? UnitRank, long? UnitBoardSize, long? OrganisationRank, long? OrganisationBoardSize,
    bool RankPending, int AttemptsLeft, IReadOnlyList<ReviewedQuestion> Review, Rewards.LadderState? Ladder = null);

/// <summary>Each question after the round: the key and explanation, whatever the stage shows during it.</summary>
public sealed record ReviewedQuestion(int Position, IReadOnlyList<int> Chosen, IReadOnlyList<int> Key, bool Correct, string Explanation, string Source);

/// <summary>Server-to-client calls.</summary>
public interface IPlayClient
{
    /// <summary>A round finished by itself at its deadline (or on another connection).</summary>
    Task RoundFinished(RoundResult result);
}

/// <summary>
/// Error codes a hub call can fail with, sent as the HubException message "code: text". The OpenAPI
/// document lists them as the string enum <c>PlayErrorCode</c> (see <see cref="Hosting.OpenApiDocument"/>),
/// so a generated client has their union and a page that lacks words for one fails its typecheck.
/// </summary>
public static class PlayErrors
{
    public const string InvalidRequest = "invalid-request";
    public const string UnknownCampaign = "unknown-campaign";
    public const string StageClosed = "stage-closed";
    public const string NoAttemptsLeft = "no-attempts-left";
    public const string RoundNotFound = "round-not-found";
    public const string RoundFinished = "round-finished";
    public const string DeadlinePassed = "deadline-passed";
    public const string RateLimited = "rate-limited";
    public const string NotRegistered = "not-registered";
    public const string NoQuestions = "no-questions";
    public const string SceneRequired = "scene-required";
    public const string UnknownScene = "unknown-scene";
    public const string SceneTaken = "scene-taken";
    /// <summary>Raised for any hub method by <see cref="Storage.StoreUnavailableFilter"/>.</summary>
    public const string StoreUnavailable = Storage.StoreUnavailableFilter.Code;

    /// <summary>Every code above, in the order docs/protocol.md lists them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        InvalidRequest, UnknownCampaign, StageClosed, SceneRequired, UnknownScene, SceneTaken, NoAttemptsLeft,
        NoQuestions, NotRegistered, RoundNotFound, RoundFinished, DeadlinePassed, RateLimited, StoreUnavailable,
    ];
}
