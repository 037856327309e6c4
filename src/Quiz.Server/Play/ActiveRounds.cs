using System.Collections.Concurrent;
using Quiz.Server.Campaigns;
using Quiz.Server.Participants;

namespace Quiz.Server.Play;

/// <summary>A round in play: what was drawn, the deadline, and the answers given so far.</summary>
public sealed class ActiveRound
{
    public required string Id { get; init; }
    public required Participant Participant { get; init; }
    public required Campaign Campaign { get; init; }
    public required Stage Stage { get; init; }
    /// <summary>The scene picked for the round, when the stage has scenes.</summary>
    public string? Scene { get; init; }
    public required DateOnly Day { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset Deadline { get; init; }
    public required List<DrawnQuestion> Questions { get; init; }
    public required int AttemptsLeft { get; init; }
    public GivenChoice?[] Answers { get; init; } = [];
    public DateTimeOffset LastAnswerAt { get; set; }
    public string? Flag { get; set; }
    /// <summary>Set once, by the first finish (a participant's Finish or the deadline).</summary>
    public Task<RoundResult>? Finishing { get; set; }
    /// <summary>This node's deadline timer, disposed when the round finishes earlier (it would keep the round in memory).</summary>
    public ITimer? Timer { get; set; }
    public object Gate { get; } = new();
}

/// <summary>An answer as it counts: the choices in shown and bank terms, and its outcome.</summary>
public sealed record GivenChoice(int[] Choices, string BankLetters, bool Correct, bool Late, int Points, int ElapsedMs, AnswerResult Result);

/// <summary>
/// Rounds in play: the seam between one node and many. In process here; Redis-held in the
/// scale-out (issue 13), so a round started on one node can be answered and finished on another.
/// Everything that changes a round in play goes through these calls, which are atomic per round.
/// </summary>
public interface IActiveRounds
{
    void Add(ActiveRound round);
    ActiveRound? Find(string roundId);
    /// <summary>The participant's round of a campaign that is neither finishing nor past its deadline.</summary>
    ActiveRound? Current(long participantId, string campaignId, DateTimeOffset now);
    /// <summary>The participant's latest round of a campaign, in play or finishing.</summary>
    ActiveRound? Latest(long participantId, string campaignId);
    /// <summary>Records the answer unless one was given already; the one that counts either way.</summary>
    GivenChoice Answer(ActiveRound round, int position, Func<GivenChoice> evaluate);
    /// <summary>Starts the round's finish once: every caller gets the same task (a failed one is started again).</summary>
    Task<RoundResult> Finish(ActiveRound round, Func<Task<RoundResult>> commit);
    /// <summary>The round is finished: it leaves the participant's current slot, and memory after <paramref name="keep"/>.</summary>
    void Finished(ActiveRound round, TimeSpan keep);
}

/// <summary>Rounds in play in this process's memory (the embedded default).</summary>
public sealed class InProcessActiveRounds(TimeProvider clock) : IActiveRounds
{
    private readonly ConcurrentDictionary<string, ActiveRound> _rounds = new();
    private readonly ConcurrentDictionary<(long, string), ActiveRound> _current = new();

    public void Add(ActiveRound round)
    {
        _rounds[round.Id] = round;
        _current[(round.Participant.Id, round.Campaign.Id)] = round;
    }

    public ActiveRound? Find(string roundId) => _rounds.GetValueOrDefault(roundId);

    public ActiveRound? Current(long participantId, string campaignId, DateTimeOffset now) =>
        _current.TryGetValue((participantId, campaignId), out var round) && round.Finishing is null && now < round.Deadline ? round : null;

    public ActiveRound? Latest(long participantId, string campaignId) => _current.GetValueOrDefault((participantId, campaignId));

    public GivenChoice Answer(ActiveRound round, int position, Func<GivenChoice> evaluate)
    {
        lock (round.Gate) return round.Answers[position] ??= evaluate();
    }

    public Task<RoundResult> Finish(ActiveRound round, Func<Task<RoundResult>> commit)
    {
        lock (round.Gate)
        {
            // A commit that failed (the store was unreachable) is tried again by the next Finish.
            if (round.Finishing is { IsFaulted: true }) round.Finishing = null;
            return round.Finishing ??= commit();
        }
    }

    public void Finished(ActiveRound round, TimeSpan keep)
    {
        _current.TryRemove(KeyValuePair.Create((round.Participant.Id, round.Campaign.Id), round));
        clock.CreateTimer(_ => _rounds.TryRemove(round.Id, out ActiveRound? _), null, keep, Timeout.InfiniteTimeSpan);
    }
}
