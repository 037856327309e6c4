using Microsoft.AspNetCore.SignalR;
using Quiz.Ranking;
using Quiz.Server.Diagnostics;
using Quiz.Server.Participants;
using Quiz.Server.Questions;
using Quiz.Server.Rankings;
using Quiz.Server.Units;

namespace Quiz.Server.Play;

/// <summary>
/// What happens when a round ends, in this order: commit it to the store (rule 2: before anyone is
/// told), rank it, hand it to the projections (<see cref="Events.CompletedRounds"/>), and push the result when the server ended
/// it. Each step is idempotent by the round id, and only the commit can fail the finish: a
/// ranking or bus that is down costs a pending rank or a late projection, both caught up from the
/// store. Also answers a repeated Finish from the store, the same reply as the first.
/// </summary>
public sealed class FinishPipeline(
    RoundStore store,
    QuestionBank bank,
    Campaigns.CampaignCatalog campaigns,
    UnitDirectory units,
    ParticipantRegistry participants,
    IRankingEngine ranking,
    RankingStore rankingStore,
    Events.CompletedRounds completed,
    IHubContext<PlayHub, IPlayClient> hub,
    QuizMetrics metrics,
    TimeProvider clock,
    ILogger<FinishPipeline> logger)
{
    public async Task<RoundResult> RunAsync(ActiveRound round, bool auto)
    {
        await Task.Yield(); // leave the caller's lock before doing I/O
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var finishedAt = PlayRules.FinishedAt(clock.GetUtcNow(), round.Deadline);
        var duration = (int)(finishedAt - round.StartedAt).TotalMilliseconds;
        GivenChoice?[] answers;
        string? flag;
        lock (round.Gate)
        {
            answers = [.. round.Answers];
            flag = round.Flag;
        }
        var rows = PlayRules.Rows(round.Questions, answers);
        var correctCount = rows.Count(r => r.Correct);
        var score = round.Stage.RoundScore(rows.Sum(r => r.Points), correctCount, rows.Count);
        var maxScore = round.Stage.MaxScore(round.Questions.Select(q => q.Question.Type));
        var organisation = round.Participant.OrganisationCode is { } code ? units.Organisation(code) : null;

        // 1. Committed before anyone is told.
        var committed = await store.FinishAsync(new RoundStore.FinishedRound(round.Id, round.Campaign.Id, round.Stage.Id, round.Participant.Id,
            round.Day.ToString("yyyy-MM-dd"), score, maxScore, correctCount, duration, finishedAt, auto, flag, round.AttemptsLeft, rows,
            round.Scene, round.Stage.Ladder, RewardsInviter: round.Stage.BonusPoints.Invitation > 0 || round.Stage.InvitationAttempts > 0));

        // 2. Ranked (bounded: a slow ranking answers pending).
        var ranks = await RankAsync(round, committed, score, duration, finishedAt, organisation);

        // 3. Handed over for the projections: published with others, never waited for (they also catch up from the store).
        completed.Add(new RoundCompleted(committed.ResultId, round.Id, round.Campaign.Id, round.Stage.Id, round.Participant.Id,
            round.Day, score, maxScore, duration, finishedAt, units.PathOf(round.Participant.RegionCode), organisation?.Code, organisation?.Type,
            committed.FirstInCampaign, committed.FirstOfDay,
            rows.Select(r => new CompletedAnswer(r.QuestionId, r.QuestionVersion, r.Chosen, r.Correct)).ToList()));
        // Without personal ranking (2025) the person is still ranked, for the unit boards, but is shown no rank.
        if (!round.Stage.PersonalRanking) ranks = FinishRanks.Unranked;
        var result = new RoundResult(round.Id, score, maxScore, correctCount, round.Questions.Count, duration, auto,
            ranks.National?.Rank, ranks.National?.Size, ranks.Unit?.Rank, ranks.Unit?.Size, ranks.Organisation?.Rank, ranks.Organisation?.Size,
            ranks.Pending, round.AttemptsLeft,
            round.Questions.Select((q, i) => new ReviewedQuestion(i, answers[i]?.Choices ?? [], q.ShownKey,
                answers[i]?.Correct ?? false, q.Question.Explanation, q.Question.Source)).ToList(), committed.Ladder);
        metrics.Finishes.Add(1);
        metrics.FinishDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        // 4. Pushed, when the participant did not ask (the deadline ended the round), by the finish that committed it.
        if (auto && !committed.AlreadyFinished)
        {
            try { await hub.Clients.User(round.Participant.Id.ToString()).RoundFinished(result); }
            catch (Exception e) { logger.LogWarning(e, "Could not push the auto-finished round {Round}", round.Id); }
        }
        return result;
    }

    private async Task<FinishRanks> RankAsync(ActiveRound round, RoundStore.Committed committed, int score, int duration,
        DateTimeOffset finishedAt, Organisation? organisation)
    {
        var ranks = FinishRanks.PendingRanks;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            ranks = await ranking.RecordFinishAsync(new RoundFinished(round.Campaign.Id, round.Stage.Id, round.Stage.Rule, committed.ResultId,
                round.Participant.Id, score, duration, finishedAt, round.Day, rankingStore.RegionPathOf(round.Participant.RegionCode),
                organisation?.Code, organisation?.Type, round.Campaign.Start, round.Scene));
        }
        catch (Exception e)
        {
            // The round is safe in the store; the boards catch up from it.
            logger.LogError(e, "Ranking failed for round {Round}; its rank is pending", round.Id);
        }
        metrics.RankingUpdate.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (ranks.Pending) metrics.RankPending.Add(1);
        else if (!committed.AlreadyFinished) _ = KeepRanksAsync(committed.ResultId, ranks);
        return ranks;
    }

    private async Task KeepRanksAsync(long resultId, FinishRanks ranks)
    {
        try { await store.RecordPlacesAsync(resultId, ranks.National, ranks.Unit, ranks.Organisation); }
        catch (Exception e) { logger.LogWarning(e, "The ranks of result {Result} could not be kept; a repeated Finish asks the boards", resultId); }
    }

    /// <summary>
    /// A round finished before (on this node after it left memory, on another node, or before a
    /// restart): the reply rebuilt from the store, the same one the first Finish gave.
    /// </summary>
    public async Task<RoundResult?> StoredAsync(long participantId, string roundId, CancellationToken ct)
    {
        if (await store.LoadFinishedAsync(participantId, roundId, ct) is not var (row, questions, answers)) return null;
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
        // Everyone ranked is on a county board: a national rank kept without a county one was kept
        // before the places were (migration 18), and the repeat asks the boards, as for none kept.
        var (national, unit, organisation, pending) = campaigns.Get(row.CampaignId)?.Stage(row.StageId) is { PersonalRanking: false }
            ? (null, null, null, false)
            : row is { NationalRank: { } n, UnitRank: { } u }
            ? (new Place(n, row.NationalSize ?? 0), new Place(u, row.UnitSize ?? 0),
               row.OrganisationRank is { } o ? new Place(o, row.OrganisationSize ?? 0) : (Place?)null, false)
            : await LivePlacesAsync(participantId, row.CampaignId, row.StageId, ct);
        var ladder = row.LadderStep is { } step ? new Rewards.LadderState(row.Scene ?? "", (int)step, row.LadderRescued == 1) : null;
        var attemptsLeft = row.AttemptsLeft ?? 0; // rounds finished before replies were kept (migration 4)
        return new RoundResult(roundId, (int)row.Score, (int)row.MaxScore, (int)row.Correct, questions.Count, (int)row.DurationMs, row.AutoFinished == 1,
            national?.Rank, national?.Size, unit?.Rank, unit?.Size, organisation?.Rank, organisation?.Size, pending, (int)attemptsLeft, review, ladder);
    }

    /// <summary>The person's places now, for a repeated Finish whose first reply's places were not kept.</summary>
    private async Task<(Place? National, Place? Unit, Place? Organisation, bool Pending)> LivePlacesAsync(
        long participantId, string campaignId, string stageId, CancellationToken ct)
    {
        if (await participants.GetAsync(participantId, ct) is not { } person) return (null, null, null, true);
        var boards = BoardKey.OfPerson(campaignId, stageId, rankingStore.RegionPathOf(person.RegionCode)[^1], person.OrganisationCode);
        var standings = await ranking.GetStandingsAsync(boards, participantId, ct);
        static Place? PlaceOf(BoardStanding? s) => s is null ? null : new Place(s.Entry.Rank, s.Size);
        return standings[0] is null ? (null, null, null, true)
            : (PlaceOf(standings[0]), PlaceOf(standings[1]), boards.Count > 2 ? PlaceOf(standings[2]) : null, false);
    }
}
