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
    /// <summary>Set once, by the first finish on this node (a participant's Finish or the deadline).</summary>
    public Task<RoundResult>? Finishing { get; set; }
    public object Gate { get; } = new();
}

/// <summary>An answer as it counts: the choices in shown and bank terms, and its outcome.</summary>
public sealed record GivenChoice(int[] Choices, string BankLetters, bool Correct, bool Late, int Points, int ElapsedMs, AnswerResult Result);

/// <summary>An answer evaluated against the time of the round's previous answer, and the flag it raises, if any.</summary>
public readonly record struct Evaluated(GivenChoice Choice, string? Flag);

/// <summary>
/// What recording an answer came to: the answer that counts (<see cref="New"/> when it is this
/// one), or <see cref="Finishing"/> when the round had begun to finish and takes no more answers.
/// </summary>
public readonly record struct RecordedAnswer(GivenChoice? Choice, bool New, bool Finishing);

/// <summary>
/// Rounds in play: the seam between one node and many. In this process (the embedded default), or
/// in Redis (<see cref="RedisActiveRounds"/>), where a round started on one node is answered and
/// finished on any other. Everything that changes a round in play goes through these calls, which
/// are atomic per round.
/// </summary>
public interface IActiveRounds
{
    /// <summary>
    /// Whether deadlines are kept where every node sees them (Redis: any live node finishes a round
    /// at its deadline) rather than by a timer of the node that started the round.
    /// </summary>
    bool SharedDeadlines { get; }
    Task AddAsync(ActiveRound round);
    Task<ActiveRound?> FindAsync(string roundId);
    /// <summary>The participant's round of a campaign that is neither finishing nor past its deadline.</summary>
    Task<ActiveRound?> CurrentAsync(long participantId, string campaignId, DateTimeOffset now);
    /// <summary>Records the answer unless one was given already (then that one counts) or the round is finishing.</summary>
    /// <param name="evaluate">The answer judged against the time of the round's previous answer.</param>
    Task<RecordedAnswer> AnswerAsync(ActiveRound round, int position, DateTimeOffset now, Func<DateTimeOffset, Evaluated> evaluate);
    /// <summary>
    /// Starts the round's finish: from then on it takes no answers, and <paramref name="commit"/> runs
    /// on the round with every answer it took. Callers on this node share one run (a failed one is
    /// started again by the next call); the store makes runs on two nodes come to one result.
    /// Null when the round is no longer in play (finished and gone): its result is in the store.
    /// </summary>
    Task<RoundResult?> FinishAsync(ActiveRound round, Func<ActiveRound, Task<RoundResult>> commit);
    /// <summary>The round is finished and committed: it leaves the participant's current slot, and memory after <paramref name="keep"/>.</summary>
    Task FinishedAsync(ActiveRound round, TimeSpan keep);
}

/// <summary>Rounds in play in this process's memory (the embedded default).</summary>
public sealed class InProcessActiveRounds : IActiveRounds, IDisposable
{
    private readonly ConcurrentDictionary<string, ActiveRound> _rounds = new();
    private readonly ConcurrentDictionary<(long, string), ActiveRound> _current = new();
    /// <summary>When each finished round leaves memory.</summary>
    private readonly DueQueue<string> _forget;
    private readonly TimeProvider _clock;

    public InProcessActiveRounds(TimeProvider clock)
    {
        _clock = clock;
        _forget = new DueQueue<string>(clock, id => _rounds.TryRemove(id, out _));
    }

    public bool SharedDeadlines => false;

    public Task AddAsync(ActiveRound round)
    {
        _rounds[round.Id] = round;
        _current[(round.Participant.Id, round.Campaign.Id)] = round;
        return Task.CompletedTask;
    }

    public Task<ActiveRound?> FindAsync(string roundId) => Task.FromResult(_rounds.GetValueOrDefault(roundId));

    public Task<ActiveRound?> CurrentAsync(long participantId, string campaignId, DateTimeOffset now) => Task.FromResult(
        _current.TryGetValue((participantId, campaignId), out var round) && round.Finishing is null && now < round.Deadline ? round : null);

    public Task<RecordedAnswer> AnswerAsync(ActiveRound round, int position, DateTimeOffset now, Func<DateTimeOffset, Evaluated> evaluate)
    {
        lock (round.Gate)
        {
            if (round.Answers[position] is { } given) return Task.FromResult(new RecordedAnswer(given, New: false, Finishing: false));
            if (round.Finishing is not null) return Task.FromResult(new RecordedAnswer(null, New: false, Finishing: true));
            var (choice, flag) = evaluate(round.LastAnswerAt);
            round.Answers[position] = choice;
            round.Flag ??= flag;
            round.LastAnswerAt = now;
            return Task.FromResult(new RecordedAnswer(choice, New: true, Finishing: false));
        }
    }

    public Task<RoundResult?> FinishAsync(ActiveRound round, Func<ActiveRound, Task<RoundResult>> commit)
    {
        lock (round.Gate)
        {
            // A commit that failed (the store was unreachable) is tried again by the next Finish.
            if (round.Finishing is { IsFaulted: true }) round.Finishing = null;
            return (round.Finishing ??= commit(round))!;
        }
    }

    public Task FinishedAsync(ActiveRound round, TimeSpan keep)
    {
        _current.TryRemove(KeyValuePair.Create((round.Participant.Id, round.Campaign.Id), round));
        _forget.Add(round.Id, _clock.GetUtcNow() + keep);
        return Task.CompletedTask;
    }

    public void Dispose() => _forget.Dispose();
}
