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

/// <summary>
/// Reads an answer as the default converter would (names in any case, unknown ones skipped, a
/// wrong type refused), straight off the reader: the default one keeps a stack of frames a call
/// for the nested choices array, and the 10,000 answers of a live question made those a tenth of
/// what the question allocated. Written as the default converter writes it. Given to the hub
/// protocol only (<see cref="LiveApi.AddLive"/>): the OpenAPI document still describes the type.
/// </summary>
public sealed class LiveAnswerRequestJson : System.Text.Json.Serialization.JsonConverter<LiveAnswerRequest>
{
    public override LiveAnswerRequest? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        if (reader.TokenType == System.Text.Json.JsonTokenType.Null) return null;
        if (reader.TokenType != System.Text.Json.JsonTokenType.StartObject) throw new System.Text.Json.JsonException("an answer is an object");
        string? sessionId = null;
        var index = 0;
        int[]? choices = null;
        while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndObject)
        {
            // The names as the protocol spells them are matched on the bytes; another case costs a string.
            var name = reader.ValueTextEquals("sessionId"u8) ? Name.SessionId : reader.ValueTextEquals("index"u8) ? Name.Index
                : reader.ValueTextEquals("choices"u8) ? Name.Choices : NameIgnoringCase(reader.GetString());
            reader.Read();
            switch (name)
            {
                case Name.SessionId: sessionId = reader.TokenType == System.Text.Json.JsonTokenType.Null ? null : reader.GetString(); break;
                case Name.Index: index = reader.GetInt32(); break;
                case Name.Choices: choices = ReadChoices(ref reader); break;
                default: reader.Skip(); break;
            }
        }
        return new LiveAnswerRequest(sessionId, index, choices);
    }

    private enum Name { Other, SessionId, Index, Choices }

    private static Name NameIgnoringCase(string? name) =>
        string.Equals(name, "sessionId", StringComparison.OrdinalIgnoreCase) ? Name.SessionId
        : string.Equals(name, "index", StringComparison.OrdinalIgnoreCase) ? Name.Index
        : string.Equals(name, "choices", StringComparison.OrdinalIgnoreCase) ? Name.Choices : Name.Other;

    private static int[]? ReadChoices(ref System.Text.Json.Utf8JsonReader reader)
    {
        if (reader.TokenType == System.Text.Json.JsonTokenType.Null) return null;
        if (reader.TokenType != System.Text.Json.JsonTokenType.StartArray) throw new System.Text.Json.JsonException("choices is an array of option positions");
        Span<int> read = stackalloc int[16];
        var count = 0;
        List<int>? more = null;
        while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndArray)
        {
            var choice = reader.GetInt32();
            if (count < read.Length) read[count] = choice;
            else (more ??= []).Add(choice);
            count++;
        }
        return more is null ? read[..count].ToArray() : [.. read, .. more];
    }

    public override void Write(System.Text.Json.Utf8JsonWriter writer, LiveAnswerRequest value, System.Text.Json.JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("sessionId", value.SessionId);
        writer.WriteNumber("index", value.Index);
        writer.WritePropertyName("choices");
        if (value.Choices is null) writer.WriteNullValue();
        else
        {
            writer.WriteStartArray();
            foreach (var choice in value.Choices) writer.WriteNumberValue(choice);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }
}

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
