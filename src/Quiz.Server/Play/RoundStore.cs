using System.Data.Common;
using System.Text.Json;
using Dapper;
using Quiz.Server.Storage;

namespace Quiz.Server.Play;

/// <summary>
/// All SQL on rounds, attempts, results and answers. A start claims an attempt and records the
/// round in one transaction; a finish stores the result with every answer. Both are committed
/// through the <see cref="StoreWriter"/> (grouped with whatever else arrives at the same moment)
/// before the caller goes on.
/// </summary>
public sealed class RoundStore(Database database, StoreWriter writer, IConfiguration configuration)
{
    /// <summary>This node's name in <c>rounds.node</c>: <c>Server:NodeId</c>, else the host name (distinct per container).</summary>
    public string NodeId { get; } = configuration["Server:NodeId"] is { Length: > 0 } id ? id : Environment.MachineName;

    public sealed record StartedRound(string Id, string CampaignId, string StageId, long ParticipantId, string Day,
        DateTimeOffset StartedAt, DateTimeOffset Deadline, string QuestionsJson, string? Scene);

    /// <summary>A start's claim on its day: the attempts left after it, or null with the scene the day is taken by, if that is why.</summary>
    public sealed record Claim(int? AttemptsLeft, string? SceneTaken);

    public sealed record AnswerRow(int Position, string QuestionId, int QuestionVersion, string Chosen, bool Correct, int Points, int? ElapsedMs);

    /// <param name="Scene">The scene played; with <paramref name="Ladder"/> its ladder moves by the answers, in the same transaction.</param>
    /// <param name="RewardsInviter">The stage rewards whoever invited this participant: once per invitee and campaign, with their first round finished in such a stage.</param>
    public sealed record FinishedRound(string RoundId, string CampaignId, string StageId, long ParticipantId, string Day, int Score,
        int MaxScore, int Correct, int DurationMs, DateTimeOffset FinishedAt, bool AutoFinished, string? Flagged, int AttemptsLeft, IReadOnlyList<AnswerRow> Answers,
        string? Scene = null, bool Ladder = false, bool RewardsInviter = false);

    /// <summary>The committed result: its id follows commit order. <see cref="Ladder"/>: the scene's ladder after this round, on a stage with ladders.</summary>
    public sealed record Committed(long ResultId, bool FirstInCampaign, bool FirstOfDay, bool AlreadyFinished, Rewards.LadderState? Ladder = null);

    /// <summary>A question of a round as stored: bank id, version, and the shown order of its options.</summary>
    public sealed record StoredRef(string Id, int Version, int[] Order);

    /// <summary>
    /// Claims one of the day's attempts and records the round, atomically: the attempts left after
    /// this one, or none when none was left or the day belongs to another scene (nothing is written
    /// then). The cap is the stage's attempts plus any bonus an admin granted for that day. The day's
    /// scene is held on the attempts row, so one conditional upsert enforces both, on any node; a day
    /// whose attempts were all given back (voided) is free again.
    /// </summary>
    /// <param name="oneScenePerDay">Whether the day is held by its first scene (2024); false: any scene any time, only the attempts count.</param>
    /// <param name="attemptsPerInvitee">Extra attempts for each invited friend who took part that day (<see cref="Rewards.RewardStore"/>).</param>
    public Task<Claim> StartAsync(StartedRound round, int attemptsPerDay, bool oneScenePerDay = true, int attemptsPerInvitee = 0, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            // Without one scene a day, the attempts row holds no scene ('' always matches).
            var scene = oneScenePerDay ? round.Scene ?? "" : "";
            var args = new { round.ParticipantId, round.CampaignId, round.StageId, round.Day, attemptsPerDay };
            var allowed = attemptsPerDay + (await connection.ExecuteScalarAsync<int?>("""
                SELECT extra FROM bonus_attempts
                WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Day
                """, args, tx) ?? 0);
            if (attemptsPerInvitee > 0)
                allowed += attemptsPerInvitee * await Rewards.RewardStore.InviteesOnDayAsync(connection, tx, round.ParticipantId, round.CampaignId, round.StageId, round.Day);
            var used = await connection.ExecuteScalarAsync<int?>("""
                INSERT INTO attempts (participant_id, campaign_id, stage_id, day, used, scene) VALUES (@ParticipantId, @CampaignId, @StageId, @Day, 1, @scene)
                ON CONFLICT (participant_id, campaign_id, stage_id, day) DO UPDATE SET used = attempts.used + 1, scene = excluded.scene
                WHERE attempts.used < @allowed AND (attempts.scene = excluded.scene OR attempts.used = 0)
                RETURNING used
                """, new { round.ParticipantId, round.CampaignId, round.StageId, round.Day, allowed, scene }, tx);
            if (used is not { } u || u > allowed)
            {
                var held = await connection.QuerySingleOrDefaultAsync<(string Scene, long Used)>("""
                    SELECT scene, used FROM attempts
                    WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Day
                    """, args, tx);
                return new Claim(null, held.Used > 0 && held.Scene != scene ? held.Scene : null);
            }
            await connection.ExecuteAsync("""
                INSERT INTO rounds (id, campaign_id, stage_id, participant_id, day, started_at, deadline, status, questions, scene, node)
                VALUES (@Id, @CampaignId, @StageId, @ParticipantId, @Day, @Started, @DeadlineText, 'started', @QuestionsJson, @Scene, @NodeId)
                """, new { round.Id, round.CampaignId, round.StageId, round.ParticipantId, round.Day, Started = Utc(round.StartedAt), DeadlineText = Utc(round.Deadline), round.QuestionsJson, round.Scene, NodeId }, tx);
            return new Claim(allowed - u, null);
        }, ct);

    /// <summary>Every question this participant has been shown in the campaign, so a draw prefers unseen ones.</summary>
    public async Task<HashSet<string>> SeenQuestionsAsync(long participantId, string campaignId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<string>(
                "SELECT questions FROM rounds WHERE participant_id = @participantId AND campaign_id = @campaignId", new { participantId, campaignId }))
            .SelectMany(json => JsonSerializer.Deserialize<List<StoredRef>>(json)!).Select(q => q.Id).ToHashSet();
    }

    public async Task<Committed> FinishAsync(FinishedRound round, CancellationToken ct = default) =>
        (await writer.WriteAsync((connection, tx) => InsertFinishAsync(connection, tx, round), ct))!;

    /// <summary>
    /// A finish in four statements (a burst commits hundreds of them in one transaction), plus the
    /// ladder and the inviter's reward on stages that have them (<see cref="Rewards.RewardStore"/>).
    /// </summary>
    private static async Task<Committed?> InsertFinishAsync(DbConnection connection, DbTransaction tx, FinishedRound r)
    {
        var before = await connection.QuerySingleAsync<(long? Existing, long InCampaign, long OnDay, long? LadderStep, long? LadderRescued)>("""
            SELECT (SELECT id FROM results WHERE round_id = @RoundId), COUNT(*), COALESCE(SUM(CASE WHEN day = @Day THEN 1 ELSE 0 END), 0),
                   (SELECT ladder_step FROM results WHERE round_id = @RoundId), (SELECT ladder_rescued FROM results WHERE round_id = @RoundId)
            FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId
            """, new { r.RoundId, r.ParticipantId, r.CampaignId, r.Day }, tx);
        // Finished before (a retry after a node died between its commit and its reply): the ladder as that finish left it.
        if (before.Existing is { } id)
            return new Committed(id, false, false, AlreadyFinished: true,
                before.LadderStep is { } kept && r.Scene is { } played ? new Rewards.LadderState(played, (int)kept, before.LadderRescued == 1) : null);

        // The ladder moves here, once: a repeated Finish returned above, before it.
        var ladder = r.Ladder && r.Scene is { } scene
            ? await Rewards.RewardStore.ClimbAsync(connection, tx, r.ParticipantId, r.CampaignId, scene, [.. r.Answers.OrderBy(a => a.Position).Select(a => a.Correct)])
            : null;
        var resultId = await connection.ExecuteScalarAsync<long>("""
            INSERT INTO results (round_id, campaign_id, stage_id, participant_id, day, score, max_score, correct, duration_ms,
                                 finished_at, auto_finished, flagged, first_in_campaign, first_of_day, attempts_left, ladder_step, ladder_rescued)
            VALUES (@RoundId, @CampaignId, @StageId, @ParticipantId, @Day, @Score, @MaxScore, @Correct, @DurationMs,
                    @Finished, @AutoFinished, @Flagged, @FirstInCampaign, @FirstOfDay, @AttemptsLeft, @LadderStep, @LadderRescued)
            RETURNING id
            """, new
        {
            LadderStep = ladder?.Step, LadderRescued = ladder is null ? (int?)null : ladder.Rescued ? 1 : 0,
            r.RoundId, r.CampaignId, r.StageId, r.ParticipantId, r.Day, r.Score, r.MaxScore, r.Correct, r.DurationMs, r.AttemptsLeft,
            // 0/1 integers, not booleans: the same columns on SQLite and PostgreSQL (Npgsql will not put a bool in a bigint).
            Finished = r.FinishedAt.ToString("O"), AutoFinished = r.AutoFinished ? 1 : 0, r.Flagged,
            FirstInCampaign = before.InCampaign == 0 ? 1 : 0, FirstOfDay = before.OnDay == 0 ? 1 : 0,
        }, tx);
        if (r.Answers.Count > 0)
        {
            var parameters = new DynamicParameters(new { resultId });
            for (var i = 0; i < r.Answers.Count; i++)
            {
                var a = r.Answers[i];
                parameters.Add($"p{i}", a.Position);
                parameters.Add($"q{i}", a.QuestionId);
                parameters.Add($"v{i}", a.QuestionVersion);
                parameters.Add($"c{i}", a.Chosen);
                parameters.Add($"k{i}", a.Correct ? 1 : 0);
                parameters.Add($"s{i}", a.Points);
                parameters.Add($"e{i}", a.ElapsedMs);
            }
            await connection.ExecuteAsync(AnswersInsert(r.Answers.Count), parameters, tx);
        }
        await connection.ExecuteAsync("UPDATE rounds SET status = 'finished' WHERE id = @RoundId", new { r.RoundId }, tx);
        if (r.RewardsInviter)
            await Rewards.RewardStore.RewardInviterAsync(connection, tx, r.ParticipantId, r.CampaignId, r.StageId, r.Day, resultId);
        return new Committed(resultId, before.InCampaign == 0, before.OnDay == 0, AlreadyFinished: false, ladder);
    }

    /// <summary>
    /// The ranks a finish reply gave, kept so that a repeated Finish answers the same (not awaited
    /// by the finish: the round itself is already durable; a crash before this commit leaves NULLs,
    /// and the repeat then asks the boards).
    /// </summary>
    public Task RecordRanksAsync(long resultId, long? national, long? unit, long? organisation) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            await connection.ExecuteAsync("""
                UPDATE results SET national_rank = @national, unit_rank = @unit, organisation_rank = @organisation WHERE id = @resultId
                """, new { resultId, national, unit, organisation }, tx);
            return 0;
        });

    public sealed record FinishedRow(long Id, string CampaignId, string StageId, string Day, long Score, long MaxScore, long Correct, long DurationMs,
        long AutoFinished, long? AttemptsLeft, long? NationalRank, long? UnitRank, long? OrganisationRank, long? LadderStep, long? LadderRescued, string? Scene);

    public sealed record StoredAnswer(long Position, string Chosen, long Correct);

    /// <summary>A finished round of this participant as stored: the result, its questions and the answers given.</summary>
    public async Task<(FinishedRow Result, List<StoredRef> Questions, List<StoredAnswer> Answers)?> LoadFinishedAsync(
        long participantId, string roundId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<FinishedRow>("""
            SELECT id, campaign_id AS CampaignId, stage_id AS StageId, day, score, max_score AS MaxScore, correct, duration_ms AS DurationMs,
                   auto_finished AS AutoFinished, attempts_left AS AttemptsLeft, national_rank AS NationalRank, unit_rank AS UnitRank,
                   organisation_rank AS OrganisationRank, ladder_step AS LadderStep, ladder_rescued AS LadderRescued,
                   (SELECT scene FROM rounds WHERE rounds.id = results.round_id) AS Scene
            FROM results WHERE round_id = @roundId AND participant_id = @participantId
            """, new { roundId, participantId });
        if (row is null) return null;
        var questions = JsonSerializer.Deserialize<List<StoredRef>>(await connection.ExecuteScalarAsync<string>(
            "SELECT questions FROM rounds WHERE id = @roundId", new { roundId }) ?? "[]")!;
        var answers = (await connection.QueryAsync<StoredAnswer>(
            "SELECT position, chosen, correct FROM answers WHERE result_id = @Id ORDER BY position", new { row.Id })).ToList();
        return (row, questions, answers);
    }

    /// <summary>Times as stored: UTC, ISO 8601 with a fixed width, so that text order is time order.</summary>
    private static string Utc(DateTimeOffset at) => at.ToUniversalTime().ToString("O");

    /// <summary>
    /// Rounds left "started" that nobody will finish (their answers lived in a process's memory):
    /// this node's own after its restart (<paramref name="deadBefore"/> null), or any node's whose
    /// deadline passed before <paramref name="deadBefore"/> (a live node finishes its rounds at the
    /// deadline, so those belong to a node that died). They are voided, which gives the attempt back.
    /// The number voided.
    /// </summary>
    public Task<int> VoidAbandonedAsync(DateTimeOffset? deadBefore, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            const string abandoned = """
                r.status = 'started' AND (@deadBefore IS NULL AND (r.node = @NodeId OR r.node IS NULL) OR r.deadline < @deadBefore)
                """;
            var args = new { NodeId, deadBefore = deadBefore is { } d ? Utc(d) : null };
            await connection.ExecuteAsync($"""
                UPDATE attempts SET used = used - (
                    SELECT COUNT(*) FROM rounds r
                    WHERE {abandoned} AND r.participant_id = attempts.participant_id AND r.campaign_id = attempts.campaign_id
                      AND r.stage_id = attempts.stage_id AND r.day = attempts.day)
                WHERE EXISTS (
                    SELECT 1 FROM rounds r
                    WHERE {abandoned} AND r.participant_id = attempts.participant_id AND r.campaign_id = attempts.campaign_id
                      AND r.stage_id = attempts.stage_id AND r.day = attempts.day)
                """, args, tx);
            return await connection.ExecuteAsync($"UPDATE rounds SET status = 'void' WHERE id IN (SELECT r.id FROM rounds r WHERE {abandoned})", args, tx);
        }, ct);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> AnswerInserts = new();

    /// <summary>One multi-row INSERT for a round's answers (one statement instead of one per answer).</summary>
    private static string AnswersInsert(int count) => AnswerInserts.GetOrAdd(count, n =>
        "INSERT INTO answers (result_id, position, question_id, question_version, chosen, correct, points, elapsed_ms) VALUES " +
        string.Join(", ", Enumerable.Range(0, n).Select(i => $"(@resultId, @p{i}, @q{i}, @v{i}, @c{i}, @k{i}, @s{i}, @e{i})")));
}
