using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Quiz.Server.Campaigns;
using Quiz.Server.Diagnostics;
using Quiz.Server.Participants;

namespace Quiz.Server.Play;

/// <summary>
/// Starting, answering and finishing rounds: the rules (<see cref="PlayRules"/>) applied to the
/// rounds in play (<see cref="IActiveRounds"/>), the store (<see cref="RoundStore"/>) and the
/// finish sequence (<see cref="FinishPipeline"/>), plus the deadline timers. The hub only forwards
/// to it.
/// </summary>
public sealed class RoundService(
    CampaignCatalog campaigns,
    ParticipantRegistry participants,
    QuestionDraw draw,
    RoundStore store,
    IActiveRounds active,
    FinishPipeline finish,
    QuizMetrics metrics,
    TimeProvider clock,
    ILogger<RoundService> logger) : IDisposable
{
    /// <summary>
    /// How long a finished round stays in memory, so a repeated Finish (a retry on a flaky network)
    /// gets the same reply cheaply; later ones are answered from the store. Short, since a round
    /// in memory costs a few KB, and at 870 rounds/s (the sustained load test) two minutes of them
    /// were half a gigabyte.
    /// </summary>
    private static readonly TimeSpan KeepFinished = TimeSpan.FromSeconds(30);

    /// <summary>One start at a time per participant on this node (the cap itself holds in the store).</summary>
    private readonly SemaphoreSlim[] _participantLocks = Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    private static HubException Error(string code, string text) => new($"{code}: {text}");

    // ---- start ----------------------------------------------------------------------------

    public async Task<RoundView> StartAsync(long participantId, StartRoundRequest? request, CancellationToken ct = default)
    {
        if (request?.CampaignId is not { Length: > 0 and <= 40 } campaignId) throw Error(PlayErrors.InvalidRequest, "campaignId is required");
        var campaign = campaigns.Get(campaignId) ?? throw Error(PlayErrors.UnknownCampaign, $"no campaign '{campaignId}'");
        var participant = await participants.GetAsync(participantId, ct) ?? throw Error(PlayErrors.NotRegistered, "register first");
        var now = clock.GetUtcNow();
        var day = campaign.DayOf(now);
        var (open, closed) = PlayRules.OpenStage(campaign, now);
        var stage = open ?? throw Error(PlayErrors.StageClosed, closed!);
        var (scene, sceneCode, sceneError) = PlayRules.SceneFor(stage, request.Scene);
        if (sceneCode is not null) throw Error(sceneCode, sceneError!);

        var gate = _participantLocks[(int)(participantId % _participantLocks.Length)];
        await gate.WaitAsync(ct);
        try
        {
            // One round at a time per campaign: a second start resumes the first.
            if (await active.CurrentAsync(participantId, campaignId, now) is { } running) return View(running, now);

            var seen = await store.SeenQuestionsAsync(participantId, campaignId, ct);
            var questions = await draw.DrawAsync(stage, participant.Track, seen, Random.Shared, ct, scene);
            if (questions.Count == 0) throw Error(PlayErrors.NoQuestions, "the question pool of this stage is too small");

            var id = NewRoundId(now);
            var dayText = day.ToString("yyyy-MM-dd");
            // The attempt is claimed in the store, in the transaction that records the round, so
            // the cap holds whichever node a start reaches.
            // The day's scene is claimed with it (where the stage plays one scene a day).
            var claim = await store.StartAsync(new RoundStore.StartedRound(id, campaignId, stage.Id, participantId, dayText, now, now + stage.RoundTime,
                JsonSerializer.Serialize(questions.Select(q => new RoundStore.StoredRef(q.Question.Id, q.Stored.Version, q.Order))), scene?.Id),
                stage.AttemptsPerDay, stage.OneScenePerDay, stage.InvitationAttempts, ct);
            if (claim.SceneTaken is { } taken) throw Error(PlayErrors.SceneTaken, $"today's scene is '{taken}'; another scene can be played on another day");
            if (claim.AttemptsLeft is not { } left) throw Error(PlayErrors.NoAttemptsLeft, "all of today's attempts are used");

            var round = new ActiveRound
            {
                Id = id, Participant = participant, Campaign = campaign, Stage = stage, Scene = scene?.Id, Day = day,
                StartedAt = now, Deadline = now + stage.RoundTime, Questions = questions,
                AttemptsLeft = left, Answers = new GivenChoice?[questions.Count], LastAnswerAt = now,
            };
            try { await active.AddAsync(round); }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
                // Not in play, so not playable: the attempt is given back at once.
                await store.VoidAsync(id, CancellationToken.None);
                throw;
            }
            metrics.RoundsStarted.Add(1);
            if (!active.SharedDeadlines) Deadlines.Add(round.Id, round.Deadline);
            return View(round, now);
        }
        finally { gate.Release(); }
    }

    /// <summary>The round this participant has in play in a campaign, to carry on after a reconnect.</summary>
    public async Task<RoundView?> CurrentAsync(long participantId, string campaignId)
    {
        var now = clock.GetUtcNow();
        return await active.CurrentAsync(participantId, campaignId, now) is { } round ? View(round, now) : null;
    }

    private static RoundView View(ActiveRound round, DateTimeOffset now)
    {
        GivenAnswer[] given;
        lock (round.Gate)
            given = round.Answers.Select((a, i) => a is null ? null : new GivenAnswer(i, a.Choices, a.Result)).OfType<GivenAnswer>().ToArray();
        return new RoundView(round.Id, round.Campaign.Id, round.Stage.Id,
            round.Questions.Select((q, i) => new QuestionView(i, q.Question.Id, q.Question.Type, q.Question.Stem,
                q.Order.Select(o => q.Question.Options[o]).ToList())).ToList(),
            round.StartedAt, round.Deadline, now, round.Stage.QuestionSeconds, round.Stage.ShowAnswers, round.AttemptsLeft, given, round.Scene);
    }

    /// <summary>
    /// A round's id: the start's Unix milliseconds (6 bytes, big-endian), then 6 random bytes, in
    /// lower-case hex (24 characters). Ids that grow with time land at the end of the rounds' and
    /// the results' indexes on the id, on pages the store writer has just written; random ids put
    /// every start and every finish on a random page of each (BENCHMARKS.md, "Round ids in time
    /// order"). An id is no secret: every call checks that the round is the caller's.
    /// </summary>
    internal static string NewRoundId(DateTimeOffset startedAt)
    {
        Span<byte> id = stackalloc byte[12];
        var ms = startedAt.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--, ms >>= 8) id[i] = (byte)ms;
        RandomNumberGenerator.Fill(id[6..]);
        return Convert.ToHexStringLower(id);
    }

    // ---- answer ---------------------------------------------------------------------------

    public async Task<AnswerResult> AnswerAsync(long participantId, AnswerRequest? request, CancellationToken ct = default)
    {
        if (request?.RoundId is not { Length: > 0 and <= 64 } || request.Choices is null) throw Error(PlayErrors.InvalidRequest, "roundId, position and choices are required");
        var round = await active.FindAsync(request.RoundId) is { } r && r.Participant.Id == participantId ? r
            // Out of play: finished (and gone from Redis, or from this node's memory after a while), or never this participant's.
            : await store.IsFinishedAsync(participantId, request.RoundId, ct) ? throw Error(PlayErrors.RoundFinished, "the round is finished")
            : throw Error(PlayErrors.RoundNotFound, "no such round in play");
        if (request.Position < 0 || request.Position >= round.Questions.Count)
            throw Error(PlayErrors.InvalidRequest, $"position must be 0 to {round.Questions.Count - 1}");
        var question = round.Questions[request.Position];
        if (PlayRules.InvalidChoices(question, request.Choices) is { } invalid) throw Error(PlayErrors.InvalidRequest, invalid);

        var now = clock.GetUtcNow();
        // The first answer counts; a repeat (a retry on a flaky network) gets the first outcome.
        var recorded = await active.AnswerAsync(round, request.Position, now, lastAnswerAt =>
        {
            if (now >= round.Deadline) throw Error(PlayErrors.DeadlinePassed, "the round's time is up");
            var elapsed = (int)(now - lastAnswerAt).TotalMilliseconds;
            return new Evaluated(PlayRules.Evaluate(round.Stage, question, request.Position, request.Choices, elapsed),
                PlayRules.Flag(round.Stage, request.Position, elapsed));
        });
        if (recorded.Finishing) throw Error(PlayErrors.RoundFinished, "the round is finished");
        if (recorded.New) metrics.Answers.Add(1);
        if (!request.Finish) return recorded.Choice!.Result;
        // A repeat of this call (its reply lost) finds the answer given and the finish under way
        // or done on this node, so it gets the same result.
        return recorded.Choice!.Result with { Result = await FinishOrStoredAsync(participantId, round.Id, round, ct) };
    }

    // ---- finish ---------------------------------------------------------------------------

    public async Task<RoundResult> FinishAsync(long participantId, FinishRequest? request, CancellationToken ct = default)
    {
        if (request?.RoundId is not { Length: > 0 and <= 64 } roundId) throw Error(PlayErrors.InvalidRequest, "roundId is required");
        var round = await active.FindAsync(roundId) is { } r && r.Participant.Id == participantId ? r : null;
        return await FinishOrStoredAsync(participantId, roundId, round, ct);
    }

    /// <summary>
    /// The round finished here if it is in play (<paramref name="round"/>, the caller's), else the
    /// result the store kept (finished on another node, or long ago): Finish and a finishing Answer alike.
    /// </summary>
    private async Task<RoundResult> FinishOrStoredAsync(long participantId, string roundId, ActiveRound? round, CancellationToken ct) =>
        (round is null ? null : await FinishAsync(round, auto: false))
        ?? await finish.StoredAsync(participantId, roundId, ct) ?? throw Error(PlayErrors.RoundNotFound, "no such round");

    /// <summary>Null when the round left play meanwhile (finished on another node): its result is in the store.</summary>
    private Task<RoundResult?> FinishAsync(ActiveRound round, bool auto) =>
        active.FinishAsync(round, async playing =>
        {
            var result = await finish.RunAsync(playing, auto);
            await active.FinishedAsync(playing, KeepFinished);
            return result;
        });

    /// <summary>
    /// A round whose deadline has passed, by this node's queue or, with rounds in Redis, by the
    /// shared one (<see cref="DeadlineWatcher"/>, on whichever node claimed it): finished with the
    /// answers it has. One finished earlier and still held gives its result again (nothing runs);
    /// one whose finish failed (the store was away) is tried again. False when it is no longer in play.
    /// </summary>
    public async Task<bool> FinishDueAsync(string roundId)
    {
        if (await active.FindAsync(roundId) is not { } round) return false;
        try { await FinishAsync(round, auto: true); }
        catch (Exception e) { logger.LogError(e, "Round {Round} could not finish at its deadline; the next Finish retries", round.Id); }
        return true;
    }

    /// <summary>
    /// This node's round deadlines (without <see cref="IActiveRounds.SharedDeadlines"/>): one timer
    /// for all of them. Made on first use, since its action is this service's.
    /// </summary>
    private DueQueue<string> Deadlines
    {
        get
        {
            if (Volatile.Read(ref _deadlines) is { } made) return made;
            // In this process a lookup cannot fail, so nothing is left unobserved.
            var queue = new DueQueue<string>(clock, roundId => _ = FinishDueAsync(roundId));
            if (Interlocked.CompareExchange(ref _deadlines, queue, null) is not { } first) return queue;
            queue.Dispose();
            return first;
        }
    }

    private DueQueue<string>? _deadlines;

    public void Dispose() => _deadlines?.Dispose();

    /// <summary>
    /// At start-up: this node's rounds left "started" by its previous process cannot be resumed
    /// (their answers lived in its memory): they are voided, which gives the attempt back. Other
    /// nodes' rounds in play are theirs; <see cref="RoundSweeper"/> voids those of a node that died.
    /// </summary>
    public async Task VoidInterruptedRoundsAsync(CancellationToken ct = default)
    {
        // Held in Redis, they are still in play: any node goes on with them.
        if (active.SharedDeadlines) return;
        var count = await store.VoidAbandonedAsync(deadBefore: null, ct);
        if (count > 0) logger.LogWarning("Voided {Count} rounds interrupted by a restart; their attempts are given back", count);
    }
}

/// <summary>
/// Voids rounds that a dead node left "started" (once they are <see cref="Grace"/> past their
/// deadline, when their own node would long have finished them), so their attempts come back.
/// </summary>
public sealed class RoundSweeper(RoundStore store, TimeProvider clock, ILogger<RoundSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var count = await store.VoidAbandonedAsync(clock.GetUtcNow() - Grace, stoppingToken);
                if (count > 0) logger.LogWarning("Voided {Count} rounds abandoned past their deadline (a node died); their attempts are given back", count);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Abandoned rounds not swept: {Reason}", e.Message);
            }
        }
    }
}
