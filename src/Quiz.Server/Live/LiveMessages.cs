namespace Quiz.Server.Live;

// The words of docs/live.md: requests, views and what /hubs/live pushes.

public enum LiveRoundKind { MustAnswer, Buzz }

public enum LivePhase { Lobby, Open, Paused, Closed, Revealed, Ended }

/// <summary>The questions of a session: these ids in this order, or <paramref name="Count"/> drawn from a track (and category).</summary>
public sealed record LiveQuestionSource(IReadOnlyList<string>? Ids = null, string? Track = null, string? Category = null, int? Count = null);

public sealed record LiveRoundRule(LiveRoundKind Kind, int Questions);

/// <summary>A right must-answer answer scores <c>Points × (1 − (1 − MinShare) × elapsed ÷ limit)</c>; a buzz win scores <c>Points</c>.</summary>
public sealed record SpeedRule(int Points = 1000, double MinShare = 0.5)
{
    public int For(TimeSpan elapsed, TimeSpan limit)
    {
        var late = Math.Clamp(elapsed / limit, 0, 1);
        return (int)Math.Round(Points * (1 - (1 - MinShare) * late), MidpointRounding.AwayFromZero);
    }
}

public sealed record CreateLiveSession(
    string? Title, string? UnitCode, LiveQuestionSource? Questions, IReadOnlyList<LiveRoundRule>? Rounds, int? QuestionSeconds, SpeedRule? Speed);

public sealed record LiveSessionView(
    string Id, string Code, string Title, string? UnitCode, string? UnitName, string CreatedBy, DateTimeOffset CreatedAt, LivePhase Phase,
    int QuestionCount, IReadOnlyList<LiveRoundRule> Rounds, int QuestionSeconds, SpeedRule Speed, int Audience, string JoinUrl);

public sealed record LiveJoinInfo(string SessionId, string Title, string? UnitName, LivePhase Phase, int Audience);

public sealed record LiveQuestion(
    string SessionId, int Index, int Count, int Round, LiveRoundKind Kind, string Type, string Stem, IReadOnlyList<string> Options,
    DateTimeOffset Deadline, long RemainingMs, DateTimeOffset ServerNow);

public sealed record LiveHostQuestion(
    int Index, int Count, int Round, LiveRoundKind Kind, string Type, string Stem, IReadOnlyList<string> Options, int[] Key, string Explanation,
    DateTimeOffset? Deadline, long? RemainingMs, DateTimeOffset ServerNow);

public sealed record LiveStanding(int Place, string Nickname, string? RegionName, int Points, int Right);

public sealed record LiveHostView(
    LiveSessionView Session, LivePhase Phase, int Index, LiveHostQuestion? Question, int Answered, int[] Distribution,
    IReadOnlyList<LiveStanding> Top, bool Skipped, LiveStanding? BuzzWinner, IReadOnlyList<LiveStanding> Podium);

/// <param name="AsGuest">Join as a guest with <paramref name="Nickname"/> and <paramref name="RegionCode"/> even when
/// the connection carries a participant token (someone else using the phone).</param>
public sealed record LiveJoinRequest(string? Code, string? Nickname, string? RegionCode, string? RejoinKey, bool AsGuest = false);

public sealed record LiveYou(int Index, bool Answered, bool Correct, int Points, int Total, int Place, int Audience);

public sealed record LiveJoined(
    string SessionId, long PlayerId, string RejoinKey, string Nickname, string Title, LivePhase Phase, LiveQuestion? Question, LiveYou You);

public sealed record LiveAnswerRequest(string? SessionId, int Index, int[]? Choices);

public sealed record LiveAnswerAck(int Index, bool Accepted, long ElapsedMs);

public sealed record LiveAudience(string SessionId, int Audience);

public sealed record LivePaused(string SessionId, int Index, long RemainingMs);

public sealed record LiveClosed(string SessionId, int Index);

/// <param name="You">To a phone, its own result; null to hosts.</param>
public sealed record LiveReveal(
    string SessionId, int Index, bool Skipped, int[] Key, string Explanation, int[] Distribution, IReadOnlyList<LiveStanding> Top, LiveStanding? BuzzWinner,
    LiveYou? You = null);

public sealed record LiveEnded(string SessionId, IReadOnlyList<LiveStanding> Podium, IReadOnlyList<LiveStanding> Top);

public sealed record LiveAnswered(string SessionId, int Index, int Answered);

/// <summary>What /hubs/live pushes (docs/live.md, section 2).</summary>
public interface ILiveClient
{
    Task LiveAudience(LiveAudience message);
    Task LiveQuestion(LiveQuestion message);
    Task LivePaused(LivePaused message);
    Task LiveClosed(LiveClosed message);
    Task LiveReveal(LiveReveal message);
    Task LiveEnded(LiveEnded message);
    Task LiveAnswered(LiveAnswered message);
}

/// <summary>The codes a /hubs/live call fails with (docs/live.md, section 5).</summary>
public static class LiveErrors
{
    public const string InvalidRequest = "invalid-request";
    public const string SessionNotFound = "session-not-found";
    public const string NotHost = "not-host";
    public const string WrongPhase = "wrong-phase";
    public const string NotJoined = "not-joined";
    public const string WrongSession = "wrong-session";
    public const string QuestionClosed = "question-closed";
    public const string AlreadyAnswered = "already-answered";
    public const string NicknameRefused = "nickname-refused";
    public const string UnknownRegion = "unknown-region";
    public const string RateLimited = "rate-limited";

    public static Microsoft.AspNetCore.SignalR.HubException Error(string code, string text) => new($"{code}: {text}");
}
