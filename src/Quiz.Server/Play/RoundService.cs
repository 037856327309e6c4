using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using MassTransit;
using Microsoft.AspNetCore.SignalR;
using Quiz.Ranking;
using Quiz.Server.Campaigns;
using Quiz.Server.Diagnostics;
using Quiz.Server.Participants;
using Quiz.Server.Rankings;
using Quiz.Server.Questions;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Play;

/// <summary>
/// The rounds in play on this node: starting (attempt cap checked atomically per participant),
/// answering, finishing (committed before anyone is told), and finishing by itself at the
/// deadline. The hub only forwards to it.
/// </summary>
public sealed partial class RoundService(
    CampaignCatalog campaigns,
    ParticipantRegistry participants,
    UnitDirectory units,
    QuestionDraw draw,
    QuestionBank bank,
    RoundWriter writer,
    Database database,
    IRankingEngine ranking,
    RankingStore rankingStore,
    IBus bus,
    IHubContext<PlayHub, IPlayClient> hub,
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

    private readonly ConcurrentDictionary<string, ActiveRound> _rounds = new();
    private readonly ConcurrentDictionary<(long, string), ActiveRound> _current = new();
    private readonly SemaphoreSlim[] _participantLocks = Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    private sealed class ActiveRound
    {
        public required string Id { get; init; }
        public required Participant Participant { get; init; }
        public required Campaign Campaign { get; init; }
        public required Stage Stage { get; init; }
        public required DateOnly Day { get; init; }
        public required DateTimeOffset StartedAt { get; init; }
        public required DateTimeOffset Deadline { get; init; }
        public required List<DrawnQuestion> Questions { get; init; }
        public required int AttemptsLeft { get; init; }
        public GivenChoice?[] Answers { get; init; } = [];
        public DateTimeOffset LastAnswerAt { get; set; }
        public string? Flag { get; set; }
        public Task<RoundResult>? Finishing { get; set; }
        /// <summary>Completes when the start is committed (never throws).</summary>
        public Task Recorded { get; set; } = Task.CompletedTask;
        public ITimer? Timer { get; set; }
        public object Gate { get; } = new();
    }

    private sealed record GivenChoice(int[] Choices, string BankLetters, bool Correct, bool Late, int Points, int ElapsedMs, AnswerResult Result);

    private static HubException Error(string code, string text) => new($"{code}: {text}");

    // ---- start ----------------------------------------------------------------------------

    public async Task<RoundView> StartAsync(long participantId, StartRoundRequest? request, CancellationToken ct = default)
    {
        if (request?.CampaignId is not { Length: > 0 and <= 40 } campaignId) throw Error(PlayErrors.InvalidRequest, "campaignId is required");
        var campaign = campaigns.Get(campaignId) ?? throw Error(PlayErrors.UnknownCampaign, $"no campaign '{campaignId}'");
        var participant = await participants.GetAsync(participantId, ct) ?? throw Error(PlayErrors.NotRegistered, "register first");
        var now = clock.GetUtcNow();
        var day = campaign.DayOf(now);
        var stage = campaign.StageOn(day) ?? throw Error(PlayErrors.StageClosed, "no stage of this campaign is open today");

        var gate = _participantLocks[(int)(participantId % _participantLocks.Length)];
        await gate.WaitAsync(ct);
        try
        {
            // One round at a time per campaign: a second start resumes the first.
            if (_current.TryGetValue((participantId, campaignId), out var running))
            {
                if (running.Finishing is null && now < running.Deadline) return View(running, now);
                // It is finishing: its start must be in the store before the attempts are counted.
                await running.Recorded;
            }

            await using var connection = await database.OpenAsync(ct);
            var dayText = day.ToString("yyyy-MM-dd");
            var args = new { participantId, campaignId, stageId = stage.Id, day = dayText };
            var used = await connection.ExecuteScalarAsync<int>("""
                SELECT COUNT(*) FROM rounds
                WHERE participant_id = @participantId AND campaign_id = @campaignId AND stage_id = @stageId AND day = @day AND status <> 'void'
                """, args);
            var bonus = await connection.ExecuteScalarAsync<int?>("""
                SELECT extra FROM bonus_attempts WHERE participant_id = @participantId AND campaign_id = @campaignId AND stage_id = @stageId AND day = @day
                """, args) ?? 0;
            var left = stage.AttemptsPerDay + bonus - used;
            if (left <= 0) throw Error(PlayErrors.NoAttemptsLeft, $"all {stage.AttemptsPerDay + bonus} attempts of today are used");

            var seen = (await connection.QueryAsync<string>(
                    "SELECT questions FROM rounds WHERE participant_id = @participantId AND campaign_id = @campaignId", args))
                .SelectMany(json => JsonSerializer.Deserialize<List<StoredRef>>(json)!).Select(q => q.Id).ToHashSet();
            var questions = await draw.DrawAsync(stage, participant.Track, seen, Random.Shared, ct);
            if (questions.Count == 0) throw Error(PlayErrors.NoQuestions, "the question pool of this stage is too small");

            var round = new ActiveRound
            {
                Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
                Participant = participant, Campaign = campaign, Stage = stage, Day = day,
                StartedAt = now, Deadline = now + stage.RoundTime, Questions = questions,
                AttemptsLeft = left - 1, Answers = new GivenChoice?[questions.Count], LastAnswerAt = now,
            };
            // Not awaited: only a finish must be durable before the reply. The store writer keeps
            // order, so this start is committed before the round's finish, and a start lost in a
            // crash is a round that would have been voided anyway. Until then the round in memory
            // answers a second start, and a start after it waits for it (above): the cap holds.
            round.Recorded = RecordStartAsync(new RoundWriter.StartedRound(round.Id, campaignId, stage.Id, participantId, dayText, now, round.Deadline,
                JsonSerializer.Serialize(questions.Select(q => new StoredRef(q.Question.Id, q.Stored.Version, q.Order)))));

            _rounds[round.Id] = round;
            _current[(participantId, campaignId)] = round;
            metrics.RoundsStarted.Add(1);
            round.Timer = clock.CreateTimer(_ => _ = FinishAtDeadlineAsync(round), null, round.Deadline - now, Timeout.InfiniteTimeSpan);
            return View(round, now);
        }
        finally { gate.Release(); }
    }

    private sealed record StoredRef(string Id, int Version, int[] Order);

    private async Task RecordStartAsync(RoundWriter.StartedRound start)
    {
        try { await writer.StartAsync(start); }
        catch (Exception e) { logger.LogError(e, "Round {Round} could not be recorded as started", start.Id); }
    }

    /// <summary>The round this participant has in play in a campaign, to carry on after a reconnect.</summary>
    public RoundView? Current(long participantId, string campaignId)
    {
        var now = clock.GetUtcNow();
        return _current.TryGetValue((participantId, campaignId), out var round) && round.Finishing is null && now < round.Deadline
            ? View(round, now) : null;
    }

    private static RoundView View(ActiveRound round, DateTimeOffset now)
    {
        GivenAnswer[] given;
        lock (round.Gate)
            given = round.Answers.Select((a, i) => a is null ? null : new GivenAnswer(i, a.Choices, a.Result)).OfType<GivenAnswer>().ToArray();
        return new RoundView(round.Id, round.Campaign.Id, round.Stage.Id,
            round.Questions.Select((q, i) => new QuestionView(i, q.Question.Id, q.Question.Type, q.Question.Stem,
                q.Order.Select(o => q.Question.Options[o]).ToList())).ToList(),
            round.StartedAt, round.Deadline, now, round.Stage.QuestionSeconds, round.Stage.ShowAnswers, round.AttemptsLeft, given);
    }

    // ---- answer ---------------------------------------------------------------------------

    public AnswerResult Answer(long participantId, AnswerRequest? request)
    {
        if (request?.RoundId is null || request.Choices is null) throw Error(PlayErrors.InvalidRequest, "roundId, position and choices are required");
        var round = Find(participantId, request.RoundId);
        if (request.Position < 0 || request.Position >= round.Questions.Count)
            throw Error(PlayErrors.InvalidRequest, $"position must be 0 to {round.Questions.Count - 1}");
        var question = round.Questions[request.Position];
        var choices = request.Choices;
        if (choices.Length == 0 || choices.Distinct().Count() != choices.Length || choices.Any(c => c < 0 || c >= question.Order.Length))
            throw Error(PlayErrors.InvalidRequest, $"choices are distinct option positions from 0 to {question.Order.Length - 1}");
        if (question.Question.Type != QuestionTypes.Multiple && choices.Length != 1)
            throw Error(PlayErrors.InvalidRequest, "this question takes exactly one choice");

        var now = clock.GetUtcNow();
        lock (round.Gate)
        {
            // The first answer counts; a repeat (a retry on a flaky network) gets the first outcome.
            if (round.Answers[request.Position] is { } first) return first.Result;
            if (round.Finishing is not null) throw Error(PlayErrors.RoundFinished, "the round is finished");
            if (now >= round.Deadline) throw Error(PlayErrors.DeadlinePassed, "the round's time is up");

            var elapsed = (int)(now - round.LastAnswerAt).TotalMilliseconds;
            var late = round.Stage.QuestionSeconds is { } seconds && elapsed > seconds * 1000;
            var letters = question.ToBankLetters(choices);
            var points = late ? 0 : Scoring.Points(round.Stage, question.Question, letters);
            var correct = !late && letters == question.Question.Answer;
            if (elapsed < round.Stage.MinAnswerMs)
                round.Flag ??= $"question {request.Position + 1} answered in {elapsed} ms (minimum {round.Stage.MinAnswerMs} ms)";
            var result = new AnswerResult(request.Position, correct, late,
                round.Stage.ShowAnswers ? question.ShownKey : null, round.Stage.ShowAnswers ? question.Question.Explanation : null);
            metrics.Answers.Add(1);
            round.Answers[request.Position] = new GivenChoice([.. choices.Order()], letters, correct, late, points, elapsed, result);
            round.LastAnswerAt = now;
            return result;
        }
    }

    private ActiveRound Find(long participantId, string roundId) =>
        _rounds.TryGetValue(roundId, out var round) && round.Participant.Id == participantId
            ? round
            : throw Error(PlayErrors.RoundNotFound, "no such round in play");

    // ---- finish ---------------------------------------------------------------------------

    public async Task<RoundResult> FinishAsync(long participantId, FinishRequest? request, CancellationToken ct = default)
    {
        if (request?.RoundId is not { Length: > 0 and <= 64 } roundId) throw Error(PlayErrors.InvalidRequest, "roundId is required");
        if (_rounds.TryGetValue(roundId, out var round) && round.Participant.Id == participantId)
            return await FinishAsync(round, auto: false);
        return await LoadFinishedAsync(participantId, roundId, ct) ?? throw Error(PlayErrors.RoundNotFound, "no such round");
    }

    private Task<RoundResult> FinishAsync(ActiveRound round, bool auto)
    {
        lock (round.Gate)
        {
            // A commit that failed (the store was unreachable) is tried again by the next Finish.
            if (round.Finishing is { IsFaulted: true }) round.Finishing = null;
            return round.Finishing ??= CommitAsync(round, auto);
        }
    }

    private async Task FinishAtDeadlineAsync(ActiveRound round)
    {
        // Timers may fire a millisecond or two early (the clock and the timer wheel differ): never
        // finish before the deadline, wait out the rest instead.
        var early = round.Deadline - clock.GetUtcNow();
        if (early > TimeSpan.Zero)
        {
            round.Timer?.Dispose();
            round.Timer = clock.CreateTimer(_ => _ = FinishAtDeadlineAsync(round), null, early + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
            return;
        }
        try { await FinishAsync(round, auto: true); }
        catch (Exception e) { logger.LogError(e, "Round {Round} could not finish at its deadline; the next Finish retries", round.Id); }
    }

    private async Task<RoundResult> CommitAsync(ActiveRound round, bool auto)
    {
        await Task.Yield(); // leave the caller's lock before doing I/O
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        round.Timer?.Dispose();
        var now = clock.GetUtcNow();
        var finishedAt = now < round.Deadline ? now : round.Deadline;
        var duration = (int)(finishedAt - round.StartedAt).TotalMilliseconds;
        GivenChoice?[] answers;
        string? flag;
        lock (round.Gate)
        {
            answers = [.. round.Answers];
            flag = round.Flag;
        }
        var rows = round.Questions.Select((q, i) => answers[i] is { } a
            ? new RoundWriter.AnswerRow(i, q.Question.Id, q.Stored.Version, a.BankLetters, a.Correct, a.Points, a.ElapsedMs)
            : new RoundWriter.AnswerRow(i, q.Question.Id, q.Stored.Version, "", false, 0, null)).ToList();
        var score = rows.Sum(r => r.Points);
        var maxScore = round.Stage.MaxScore(round.Questions.Select(q => q.Question.Type));
        var correctCount = rows.Count(r => r.Correct);
        var regionPath = units.PathOf(round.Participant.RegionCode); // projections count every level
        var organisation = round.Participant.OrganisationCode is { } code ? units.Organisation(code) : null;

        // Rule 2: committed before anyone is told.
        var committed = await writer.FinishAsync(new RoundWriter.FinishedRound(round.Id, round.Campaign.Id, round.Stage.Id, round.Participant.Id,
            round.Day.ToString("yyyy-MM-dd"), score, maxScore, correctCount, duration, finishedAt, auto, flag, round.AttemptsLeft, rows));

        var ranks = FinishRanks.PendingRanks;
        var rankingStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            ranks = await ranking.RecordFinishAsync(new RoundFinished(round.Campaign.Id, round.Stage.Id, round.Stage.Rule, committed.ResultId,
                round.Participant.Id, score, duration, finishedAt, round.Day, rankingStore.RegionPathOf(round.Participant.RegionCode), organisation?.Code, organisation?.Type, round.Campaign.Start));
        }
        catch (Exception e)
        {
            // The round is safe in the store; the boards catch up from it.
            logger.LogError(e, "Ranking failed for round {Round}; its rank is pending", round.Id);
        }
        metrics.RankingUpdate.Record(System.Diagnostics.Stopwatch.GetElapsedTime(rankingStarted).TotalMilliseconds);
        if (ranks.Pending) metrics.RankPending.Add(1);
        else if (!committed.AlreadyFinished) _ = RecordRanksAsync(committed.ResultId, ranks);

        try
        {
            using var publishing = new CancellationTokenSource(Events.BusOptions.PublishTimeout); // the broker may be away: the store has the round
            await bus.Publish(new RoundCompleted(committed.ResultId, round.Id, round.Campaign.Id, round.Stage.Id, round.Participant.Id,
                round.Day, score, maxScore, duration, finishedAt, regionPath, organisation?.Code, organisation?.Type,
                committed.FirstInCampaign, committed.FirstOfDay,
                rows.Select(r => new CompletedAnswer(r.QuestionId, r.QuestionVersion, r.Chosen, r.Correct)).ToList()), publishing.Token);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Publishing RoundCompleted for round {Round} failed; projections can be rebuilt from the store", round.Id);
        }

        var result = new RoundResult(round.Id, score, maxScore, correctCount, round.Questions.Count, duration, auto,
            ranks.NationalRank, ranks.UnitRank, ranks.OrganisationRank, ranks.Pending, round.AttemptsLeft,
            round.Questions.Select((q, i) => new ReviewedQuestion(i, answers[i]?.Choices ?? [], q.ShownKey,
                answers[i]?.Correct ?? false, q.Question.Explanation, q.Question.Source)).ToList());

        metrics.Finishes.Add(1);
        metrics.FinishDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        _current.TryRemove(KeyValuePair.Create((round.Participant.Id, round.Campaign.Id), round));
        clock.CreateTimer(_ => _rounds.TryRemove(round.Id, out ActiveRound? _), null, KeepFinished, Timeout.InfiniteTimeSpan);
        if (auto)
        {
            try { await hub.Clients.User(round.Participant.Id.ToString()).RoundFinished(result); }
            catch (Exception e) { logger.LogWarning(e, "Could not push the auto-finished round {Round}", round.Id); }
        }
        return result;
    }

    private async Task RecordRanksAsync(long resultId, FinishRanks ranks)
    {
        try { await writer.RecordRanksAsync(resultId, ranks.NationalRank, ranks.UnitRank, ranks.OrganisationRank); }
        catch (Exception e) { logger.LogWarning(e, "The ranks of result {Result} could not be kept; a repeated Finish asks the boards", resultId); }
    }

    private sealed record FinishedRow(long Id, string CampaignId, string StageId, string Day, long Score, long MaxScore, long Correct, long DurationMs,
        long AutoFinished, long? AttemptsLeft, long? NationalRank, long? UnitRank, long? OrganisationRank);

    /// <summary>
    /// A round finished before (on this node after it left memory, on another node, or before a
    /// restart): the reply rebuilt from the store, the same one the first Finish gave.
    /// </summary>
    private async Task<RoundResult?> LoadFinishedAsync(long participantId, string roundId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<FinishedRow>("""
            SELECT id, campaign_id AS CampaignId, stage_id AS StageId, day, score, max_score AS MaxScore, correct, duration_ms AS DurationMs,
                   auto_finished AS AutoFinished, attempts_left AS AttemptsLeft, national_rank AS NationalRank, unit_rank AS UnitRank,
                   organisation_rank AS OrganisationRank
            FROM results WHERE round_id = @roundId AND participant_id = @participantId
            """, new { roundId, participantId });
        if (row is null) return null;
        var questions = JsonSerializer.Deserialize<List<StoredRef>>(await connection.ExecuteScalarAsync<string>(
            "SELECT questions FROM rounds WHERE id = @roundId", new { roundId }) ?? "[]")!;
        var answers = (await connection.QueryAsync<(long Position, string Chosen, long Correct)>(
            "SELECT position, chosen, correct FROM answers WHERE result_id = @Id ORDER BY position", new { row.Id })).ToList();
        var review = new List<ReviewedQuestion>();
        foreach (var (position, chosen, correct) in answers)
        {
            var reference = questions[(int)position];
            var stored = await bank.GetVersionAsync(reference.Id, reference.Version, ct);
            if (stored is null) continue;
            var drawn = new DrawnQuestion(stored, reference.Order);
            var shown = chosen.Select(c => Array.IndexOf(reference.Order, c - 'A')).Order().ToList();
            review.Add(new ReviewedQuestion((int)position, shown, drawn.ShownKey, correct == 1, stored.Question.Explanation, stored.Question.Source));
        }
        var (national, unit, organisation, pending) = row.NationalRank is { } kept
            ? (kept, row.UnitRank, row.OrganisationRank, false)
            : await LiveRanksAsync(participantId, row.CampaignId, row.StageId, ct);
        var attemptsLeft = row.AttemptsLeft ?? 0; // rounds finished before replies were kept (migration 4)
        return new RoundResult(roundId, (int)row.Score, (int)row.MaxScore, (int)row.Correct, questions.Count, (int)row.DurationMs, row.AutoFinished == 1,
            national, unit, organisation, pending, (int)attemptsLeft, review);
    }

    /// <summary>The person's ranks now, for a repeated Finish whose first reply's ranks were not kept.</summary>
    private async Task<(long? National, long? Unit, long? Organisation, bool Pending)> LiveRanksAsync(
        long participantId, string campaignId, string stageId, CancellationToken ct)
    {
        var participant = await participants.GetAsync(participantId, ct);
        var national = await ranking.GetMemberAsync(BoardKey.National(campaignId, stageId), participantId, ct);
        if (participant is null || national is null) return (national?.Rank, null, null, true);
        var unit = await ranking.GetMemberAsync(BoardKey.Unit(campaignId, stageId, rankingStore.RegionPathOf(participant.RegionCode)[^1]), participantId, ct);
        var organisation = participant.OrganisationCode is { } org
            ? await ranking.GetMemberAsync(BoardKey.Organisation(campaignId, stageId, org), participantId, ct)
            : null;
        return (national.Rank, unit?.Rank, organisation?.Rank, false);
    }

    /// <summary>
    /// Rounds left "started" by a previous process cannot be resumed (their answers lived in its
    /// memory): they are voided, which gives the attempt back.
    /// </summary>
    public async Task VoidInterruptedRoundsAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var count = await connection.ExecuteAsync("UPDATE rounds SET status = 'void' WHERE status = 'started'");
        if (count > 0) logger.LogWarning("Voided {Count} rounds interrupted by a restart; their attempts are given back", count);
    }

    public void Dispose()
    {
        foreach (var round in _rounds.Values) round.Timer?.Dispose();
    }
}
