using System.Data.Common;
using System.Text.Json;
using Dapper;
using Quiz.Ranking;
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
    /// <summary>
    /// A person's attempts allowed on a day of a stage, as one SQL expression: the stage's
    /// (@attemptsPerDay), any bonus an admin granted for the day, and @attemptsPerInvitee for each
    /// friend they invited who played that day. Parameters: @ParticipantId, @CampaignId, @StageId,
    /// @Day. The start's claim and the person's totals (attempts left) read the same cap.
    /// </summary>
    internal const string AllowedSql = """
        @attemptsPerDay + COALESCE((SELECT extra FROM bonus_attempts
            WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Day), 0)
          + @attemptsPerInvitee * (SELECT COUNT(*) FROM invitation_rewards
            WHERE inviter_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Day)
        """;

    public Task<Claim> StartAsync(StartedRound round, int attemptsPerDay, bool oneScenePerDay = true, int attemptsPerInvitee = 0, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            // Without one scene a day, the attempts row holds no scene ('' always matches).
            var scene = oneScenePerDay ? round.Scene ?? "" : "";
            if (connection is Npgsql.NpgsqlConnection) return await ClaimOnPostgresAsync(connection, tx, round, attemptsPerDay, scene, attemptsPerInvitee);
            return await ClaimOnSqliteAsync(connection, tx, round, attemptsPerDay, scene, attemptsPerInvitee, NodeId);
        }, ct);

    /// <summary>The claim on SQLite, in process: the cap read, the conditional upsert, the round inserted.</summary>
    internal static async Task<Claim> ClaimOnSqliteAsync(DbConnection connection, DbTransaction tx, StartedRound round, int attemptsPerDay, string scene,
        int attemptsPerInvitee, string nodeId)
    {
        var args = new { round.ParticipantId, round.CampaignId, round.StageId, round.Day, attemptsPerDay, attemptsPerInvitee };
        var allowed = await connection.ExecuteScalarAsync<int>($"SELECT {AllowedSql}", args, tx);
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
            """, new { round.Id, round.CampaignId, round.StageId, round.ParticipantId, round.Day, Started = Utc(round.StartedAt), DeadlineText = Utc(round.Deadline), round.QuestionsJson, round.Scene, NodeId = nodeId }, tx);
        return new Claim(allowed - u, null);
    }

    /// <summary>
    /// The same claim in one statement (one round trip to PostgreSQL instead of three): the cap
    /// with its bonus, the conditional upsert, and the round inserted only when the claim held.
    /// The day's scene is read back only when the claim was refused.
    /// </summary>
    private async Task<Claim> ClaimOnPostgresAsync(DbConnection connection, DbTransaction tx, StartedRound round, int attemptsPerDay, string scene,
        int attemptsPerInvitee)
    {
        var (used, allowed) = await connection.QuerySingleAsync<(long? Used, long Allowed)>($$"""
            WITH cap AS (SELECT {{AllowedSql}} AS allowed),
            claim AS (
                INSERT INTO attempts (participant_id, campaign_id, stage_id, day, used, scene)
                SELECT @ParticipantId, @CampaignId, @StageId, @Day, 1, @dayScene FROM cap WHERE cap.allowed >= 1
                ON CONFLICT (participant_id, campaign_id, stage_id, day) DO UPDATE SET used = attempts.used + 1, scene = excluded.scene
                WHERE attempts.used < (SELECT allowed FROM cap) AND (attempts.scene = excluded.scene OR attempts.used = 0)
                RETURNING used),
            started AS (
                INSERT INTO rounds (id, campaign_id, stage_id, participant_id, day, started_at, deadline, status, questions, scene, node)
                SELECT @Id, @CampaignId, @StageId, @ParticipantId, @Day, @Started, @DeadlineText, 'started', @QuestionsJson, @Scene, @NodeId
                FROM claim)
            SELECT (SELECT used FROM claim), (SELECT allowed FROM cap)
            """, new
        {
            round.Id, round.CampaignId, round.StageId, round.ParticipantId, round.Day, attemptsPerDay, attemptsPerInvitee, dayScene = scene, // not "scene": parameter names match case-insensitively, and @Scene is the round's
            Started = Utc(round.StartedAt), DeadlineText = Utc(round.Deadline), round.QuestionsJson, round.Scene, NodeId,
        }, tx);
        if (used is { } u) return new Claim((int)(allowed - u), null);
        var held = await connection.QuerySingleOrDefaultAsync<(string Scene, long Used)>("""
            SELECT scene, used FROM attempts
            WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Day
            """, new { round.ParticipantId, round.CampaignId, round.StageId, round.Day }, tx);
        return new Claim(null, held.Used > 0 && held.Scene != scene ? held.Scene : null);
    }

    /// <summary>Every question this participant has been shown in the campaign, so a draw prefers unseen ones.</summary>
    /// <remarks>
    /// It reads every round the person played in the campaign, so a start costs more as their
    /// rounds add up. The ids are picked out of each stored list by a JSON reader rather than the
    /// lists deserialised whole: at 12 rounds of 5 questions, 28 µs and 14 KiB a start instead of
    /// 47 µs and 37 KiB. Taking them out in SQL (json_each) allocated least but cost the most CPU
    /// (BENCHMARKS.md, 2026-12-05).
    /// </remarks>
    public async Task<HashSet<string>> SeenQuestionsAsync(long participantId, string campaignId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var seen = new HashSet<string>();
        foreach (var json in await connection.QueryAsync<string>(
                     "SELECT questions FROM rounds WHERE participant_id = @participantId AND campaign_id = @campaignId", new { participantId, campaignId }))
        {
            var utf8 = System.Buffers.ArrayPool<byte>.Shared.Rent(System.Text.Encoding.UTF8.GetMaxByteCount(json.Length));
            try
            {
                // A list of StoredRef: [{"Id":"...","Version":1,"Order":[...]}, ...]
                var reader = new Utf8JsonReader(utf8.AsSpan(0, System.Text.Encoding.UTF8.GetBytes(json, utf8)));
                while (reader.Read())
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("Id"u8) && reader.Read()) seen.Add(reader.GetString()!);
            }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(utf8); }
        }
        return seen;
    }

    public async Task<Committed> FinishAsync(FinishedRound round, CancellationToken ct = default) =>
        (await writer.WriteAsync(database.IsPostgres ? PostgresFinishes : SqliteFinishes, round, ct))!;

    /// <summary>SQLite runs in this process: a statement costs microseconds, so each finish writes its own three.</summary>
    private static readonly WriteKind<FinishedRound, Committed> SqliteFinishes = new(OneByOneAsync);

    internal static async Task<Committed[]> OneByOneAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<FinishedRound> rounds)
    {
        var committed = new Committed[rounds.Count];
        for (var i = 0; i < rounds.Count; i++) committed[i] = await InsertFinishAsync(connection, tx, rounds[i]);
        return committed;
    }

    /// <summary>
    /// A finish in three statements (the result, its answers, the round marked finished), each
    /// seeing the finishes before it in the same transaction, plus
    /// the ladder and the inviter's reward on stages that have them (<see cref="Rewards.RewardStore"/>).
    /// </summary>
    private static async Task<Committed> InsertFinishAsync(DbConnection connection, DbTransaction tx, FinishedRound r)
    {
        // The store's "firsts" read inside the INSERT; nothing when the round has a result already.
        var inserted = await connection.QuerySingleOrDefaultAsync<InsertedResult>(
            connection is Npgsql.NpgsqlConnection ? ResultInsert + ResultOnPostgres : ResultInsert + ResultOnSqlite, new
        {
            r.RoundId, r.CampaignId, r.StageId, r.ParticipantId, r.Day, r.Score, r.MaxScore, r.Correct, r.DurationMs, r.AttemptsLeft,
            // 0/1 integers, not booleans: the same columns on SQLite and PostgreSQL.
            Finished = r.FinishedAt.ToString("O"), AutoFinished = r.AutoFinished ? 1 : 0, r.Flagged,
        }, tx);
        if (inserted is null)
        {
            // Finished before (a retry after a node died between its commit and its reply): the ladder as that finish left it.
            var kept = await connection.QuerySingleAsync<(long Id, long? LadderStep, long? LadderRescued)>(
                "SELECT id, ladder_step, ladder_rescued FROM results WHERE round_id = @RoundId", new { r.RoundId }, tx);
            return new Committed(kept.Id, false, false, AlreadyFinished: true,
                kept.LadderStep is { } step && r.Scene is { } played ? new Rewards.LadderState(played, (int)step, kept.LadderRescued == 1) : null);
        }
        var resultId = inserted.Id;

        // The ladder moves here, once: a repeated Finish inserted nothing and returned above.
        var ladder = r.Ladder && r.Scene is { } scene
            ? await Rewards.RewardStore.ClimbAsync(connection, tx, r.ParticipantId, r.CampaignId, scene, [.. r.Answers.OrderBy(a => a.Position).Select(a => a.Correct)])
            : null;
        if (ladder is not null)
            await connection.ExecuteAsync("UPDATE results SET ladder_step = @Step, ladder_rescued = @Rescued WHERE id = @resultId",
                new { ladder.Step, Rescued = ladder.Rescued ? 1 : 0, resultId }, tx);
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
        await connection.ExecuteAsync(Recharge, new { r.RoundId }, tx);
        await connection.ExecuteAsync("UPDATE rounds SET status = 'finished' WHERE id = @RoundId", new { r.RoundId }, tx);
        if (r.RewardsInviter)
            await Rewards.RewardStore.RewardInviterAsync(connection, tx, r.ParticipantId, r.CampaignId, r.StageId, r.Day, resultId);
        return new Committed(resultId, inserted.FirstInCampaign == 1, inserted.FirstOfDay == 1, AlreadyFinished: false, ladder);
    }

    private sealed record InsertedResult(long Id, long FirstInCampaign, long FirstOfDay);

    /// <summary>
    /// A finish's result row, with whether it is the person's first in the campaign and of the day.
    /// A plain INSERT of values: SQLite builds a temporary b-tree at every execution for
    /// <c>INSERT … SELECT</c> reading the table it inserts into, and another for <c>RETURNING</c>,
    /// whose pages each cost page faults (BENCHMARKS.md, "A finish without temporary b-trees").
    /// </summary>
    private const string ResultInsert = """
        INSERT INTO results (round_id, campaign_id, stage_id, participant_id, day, score, max_score, correct, duration_ms,
                             finished_at, auto_finished, flagged, first_in_campaign, first_of_day, attempts_left)
        VALUES (@RoundId, @CampaignId, @StageId, @ParticipantId, @Day, @Score, @MaxScore, @Correct, @DurationMs,
                @Finished, @AutoFinished, @Flagged,
                CASE WHEN EXISTS (SELECT 1 FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId) THEN 0 ELSE 1 END,
                CASE WHEN EXISTS (SELECT 1 FROM results WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND day = @Day)
                     THEN 0 ELSE 1 END,
                @AttemptsLeft)
        ON CONFLICT (round_id) DO NOTHING
        """;

    /// <summary>The row just inserted, read back by its id; none when the INSERT inserted nothing.</summary>
    private const string ResultOnSqlite = """
        ;
        SELECT id AS Id, first_in_campaign AS FirstInCampaign, first_of_day AS FirstOfDay FROM results
        WHERE id = last_insert_rowid() AND changes() = 1
        """;

    private const string ResultOnPostgres = """

        RETURNING id AS Id, first_in_campaign AS FirstInCampaign, first_of_day AS FirstOfDay
        """;

    /// <summary>
    /// A round voided as abandoned (its node seemed dead, or Redis was away past the sweeper's grace)
    /// whose finish comes after all, from the node that held it: the person's answers count, and the
    /// attempt the void gave back is taken again. Losing an acknowledged round would be worse than
    /// the one extra attempt this can leave when the returned one was used meanwhile.
    /// </summary>
    /// <remarks>
    /// By the attempts row's key: written as an EXISTS correlated on every column, SQLite scanned the
    /// whole attempts table (a row per person and day) on every finish, looking the round up once a
    /// row: ~2 ms of the one writer's time a finish at 10,000 people (BENCHMARKS.md, issue 12). By
    /// equality with the one row, not <c>IN (SELECT …)</c>: SQLite built a temporary b-tree for the
    /// list at every finish, and another for the rows to update.
    /// </remarks>
    private const string Recharge = """
        UPDATE attempts SET used = used + 1
        WHERE (participant_id, campaign_id, stage_id, day) =
              (SELECT participant_id, campaign_id, stage_id, day FROM rounds WHERE id = @RoundId AND status = 'void')
        """;

    private sealed record ResultCount(long ParticipantId, string CampaignId, string Day, long Count);

    /// <summary>
    /// On PostgreSQL every statement is a round trip to another process, so a group's finishes are
    /// written together in two: one read of what the store already holds (the rounds already
    /// finished, each person's results so far), then one statement that inserts every result and
    /// every answer (arrays unnested) and marks the rounds finished. "First in the campaign" and
    /// "first of the day" count the group's own earlier finishes too, as the one-by-one path does.
    /// </summary>
    private static readonly WriteKind<FinishedRound, Committed> PostgresFinishes = new(async (connection, tx, rounds) =>
    {
        // A ladder or an inviter's reward reads and moves state per person (2025's rules): such a
        // group goes one by one, as on SQLite.
        if (rounds.Any(r => r.Ladder || r.RewardsInviter)) return await OneByOneAsync(connection, tx, rounds);
        var roundIds = rounds.Select(r => r.RoundId).Distinct().ToArray();
        var participantIds = rounds.Select(r => r.ParticipantId).Distinct().ToArray();
        Dictionary<string, long> existing;
        Dictionary<(long, string, string), long> counts;
        using (var read = await connection.QueryMultipleAsync("""
            SELECT round_id, id FROM results WHERE round_id = ANY(@roundIds);
            SELECT participant_id AS ParticipantId, campaign_id AS CampaignId, day, COUNT(*) AS Count FROM results
            WHERE participant_id = ANY(@participantIds) GROUP BY participant_id, campaign_id, day;
            """, new { roundIds, participantIds }, tx))
        {
            existing = (await read.ReadAsync<(string RoundId, long Id)>()).ToDictionary(r => r.RoundId, r => r.Id);
            counts = (await read.ReadAsync<ResultCount>()).ToDictionary(c => (c.ParticipantId, c.CampaignId, c.Day), c => c.Count);
        }

        var committed = new Committed?[rounds.Count];
        var inserted = new List<(int Index, FinishedRound Round, bool FirstInCampaign, bool FirstOfDay)>();
        var firstInGroup = new Dictionary<string, int>();
        for (var i = 0; i < rounds.Count; i++)
        {
            var r = rounds[i];
            if (existing.TryGetValue(r.RoundId, out var id)) committed[i] = new Committed(id, false, false, AlreadyFinished: true);
            if (existing.ContainsKey(r.RoundId) || !firstInGroup.TryAdd(r.RoundId, i)) continue; // a repeat within the group gets the first's id below
            var inCampaign = counts.Where(c => c.Key.Item1 == r.ParticipantId && c.Key.Item2 == r.CampaignId).Sum(c => c.Value);
            var onDay = counts.GetValueOrDefault((r.ParticipantId, r.CampaignId, r.Day));
            inserted.Add((i, r, inCampaign == 0, onDay == 0));
            counts[(r.ParticipantId, r.CampaignId, r.Day)] = onDay + 1;
        }

        if (inserted.Count > 0)
        {
            var answers = inserted.SelectMany(x => x.Round.Answers.Select(a => (x.Round.RoundId, Answer: a))).ToList();
            var ids = (await connection.QueryAsync<(long Id, string RoundId)>("""
                WITH inserted AS (
                    INSERT INTO results (round_id, campaign_id, stage_id, participant_id, day, score, max_score, correct, duration_ms,
                                         finished_at, auto_finished, flagged, first_in_campaign, first_of_day, attempts_left)
                    SELECT * FROM unnest(@RoundIds::text[], @CampaignIds::text[], @StageIds::text[], @ParticipantIds::bigint[], @Days::text[],
                        @Scores::integer[], @MaxScores::integer[], @Corrects::integer[], @Durations::integer[], @Finished::text[],
                        @AutoFinished::integer[], @Flagged::text[], @FirstInCampaign::integer[], @FirstOfDay::integer[], @AttemptsLeft::integer[])
                    RETURNING id, round_id),
                answered AS (
                    INSERT INTO answers (result_id, position, question_id, question_version, chosen, correct, points, elapsed_ms)
                    SELECT inserted.id, a.position, a.question_id, a.question_version, a.chosen, a.correct, a.points, a.elapsed_ms
                    FROM unnest(@AnswerRounds::text[], @Positions::integer[], @Questions::text[], @Versions::integer[], @Chosen::text[],
                                @Right::integer[], @Points::integer[], @Elapsed::integer[])
                         AS a(round_id, position, question_id, question_version, chosen, correct, points, elapsed_ms)
                    JOIN inserted ON inserted.round_id = a.round_id),
                -- a voided round finished after all takes its attempt again (see Recharge); the CTEs
                -- share one snapshot, so 'void' is read before "finished" overwrites it
                -- joined from the batch's voided rounds to their attempts rows by key, never a pass over attempts
                recharged AS (
                    UPDATE attempts SET used = attempts.used + v.n
                    FROM (SELECT participant_id, campaign_id, stage_id, day, COUNT(*) AS n FROM rounds
                          WHERE id = ANY(@RoundIds) AND status = 'void'
                          GROUP BY participant_id, campaign_id, stage_id, day) v
                    WHERE attempts.participant_id = v.participant_id AND attempts.campaign_id = v.campaign_id
                      AND attempts.stage_id = v.stage_id AND attempts.day = v.day),
                finished AS (UPDATE rounds SET status = 'finished' WHERE id = ANY(@RoundIds))
                SELECT id, round_id FROM inserted
                """, new
            {
                RoundIds = inserted.Select(x => x.Round.RoundId).ToArray(),
                CampaignIds = inserted.Select(x => x.Round.CampaignId).ToArray(),
                StageIds = inserted.Select(x => x.Round.StageId).ToArray(),
                ParticipantIds = inserted.Select(x => x.Round.ParticipantId).ToArray(),
                Days = inserted.Select(x => x.Round.Day).ToArray(),
                Scores = inserted.Select(x => x.Round.Score).ToArray(),
                MaxScores = inserted.Select(x => x.Round.MaxScore).ToArray(),
                Corrects = inserted.Select(x => x.Round.Correct).ToArray(),
                Durations = inserted.Select(x => x.Round.DurationMs).ToArray(),
                Finished = inserted.Select(x => x.Round.FinishedAt.ToString("O")).ToArray(),
                AutoFinished = inserted.Select(x => x.Round.AutoFinished ? 1 : 0).ToArray(),
                Flagged = inserted.Select(x => x.Round.Flagged).ToArray(),
                FirstInCampaign = inserted.Select(x => x.FirstInCampaign ? 1 : 0).ToArray(),
                FirstOfDay = inserted.Select(x => x.FirstOfDay ? 1 : 0).ToArray(),
                AttemptsLeft = inserted.Select(x => x.Round.AttemptsLeft).ToArray(),
                AnswerRounds = answers.Select(a => a.RoundId).ToArray(),
                Positions = answers.Select(a => a.Answer.Position).ToArray(),
                Questions = answers.Select(a => a.Answer.QuestionId).ToArray(),
                Versions = answers.Select(a => a.Answer.QuestionVersion).ToArray(),
                Chosen = answers.Select(a => a.Answer.Chosen).ToArray(),
                Right = answers.Select(a => a.Answer.Correct ? 1 : 0).ToArray(),
                Points = answers.Select(a => a.Answer.Points).ToArray(),
                Elapsed = answers.Select(a => a.Answer.ElapsedMs).ToArray(),
            }, tx)).ToDictionary(x => x.RoundId, x => x.Id);
            foreach (var (index, round, firstInCampaign, firstOfDay) in inserted)
                committed[index] = new Committed(ids[round.RoundId], firstInCampaign, firstOfDay, AlreadyFinished: false);
        }
        // A round finished twice in one group: the second is a repeat of the first.
        for (var i = 0; i < rounds.Count; i++)
            committed[i] ??= new Committed(committed[firstInGroup[rounds[i].RoundId]]!.ResultId, false, false, AlreadyFinished: true);
        return committed!;
    });

    /// <summary>
    /// The places a finish reply gave, kept so that a repeated Finish answers the same (not
    /// awaited by the finish: the round itself is already durable; a crash before this commit
    /// leaves NULLs, and the repeat then asks the boards).
    /// </summary>
    public Task RecordPlacesAsync(long resultId, Place? national, Place? unit, Place? organisation) =>
        writer.WriteAsync(Places, new PlaceRow(resultId, national?.Rank, national?.Size, unit?.Rank, unit?.Size, organisation?.Rank, organisation?.Size));

    internal sealed record PlaceRow(long ResultId, long? NationalRank, long? NationalSize, long? UnitRank, long? UnitSize, long? OrganisationRank, long? OrganisationSize);

    /// <summary>A group's places in one UPDATE on PostgreSQL (arrays unnested); one UPDATE each on SQLite.</summary>
    internal static readonly WriteKind<PlaceRow, int> Places = new(async (connection, tx, rows) =>
    {
        if (connection is Npgsql.NpgsqlConnection)
            await connection.ExecuteAsync("""
                UPDATE results SET national_rank = r.nr, national_size = r.ns, unit_rank = r.ur, unit_size = r.us,
                                   organisation_rank = r.orr, organisation_size = r.os
                FROM unnest(@Ids::bigint[], @Nr::bigint[], @Ns::bigint[], @Ur::bigint[], @Us::bigint[], @Orr::bigint[], @Os::bigint[])
                     AS r(id, nr, ns, ur, us, orr, os)
                WHERE results.id = r.id
                """, new
            {
                Ids = rows.Select(r => r.ResultId).ToArray(),
                Nr = rows.Select(r => r.NationalRank).ToArray(), Ns = rows.Select(r => r.NationalSize).ToArray(),
                Ur = rows.Select(r => r.UnitRank).ToArray(), Us = rows.Select(r => r.UnitSize).ToArray(),
                Orr = rows.Select(r => r.OrganisationRank).ToArray(), Os = rows.Select(r => r.OrganisationSize).ToArray(),
            }, tx);
        else
            foreach (var r in rows)
                await connection.ExecuteAsync("""
                    UPDATE results SET national_rank = @NationalRank, national_size = @NationalSize, unit_rank = @UnitRank, unit_size = @UnitSize,
                                       organisation_rank = @OrganisationRank, organisation_size = @OrganisationSize
                    WHERE id = @ResultId
                    """, r, tx);
        return new int[rows.Count];
    });

    public sealed record FinishedRow(long Id, string CampaignId, string StageId, string Day, long Score, long MaxScore, long Correct, long DurationMs,
        long AutoFinished, long? AttemptsLeft, long? NationalRank, long? NationalSize, long? UnitRank, long? UnitSize, long? OrganisationRank,
        long? OrganisationSize, long? LadderStep, long? LadderRescued, string? Scene);

    public sealed record StoredAnswer(long Position, string Chosen, long Correct);

    /// <summary>A finished round of this participant as stored: the result, its questions and the answers given.</summary>
    public async Task<(FinishedRow Result, List<StoredRef> Questions, List<StoredAnswer> Answers)?> LoadFinishedAsync(
        long participantId, string roundId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<FinishedRow>("""
            SELECT id, campaign_id AS CampaignId, stage_id AS StageId, day, score, max_score AS MaxScore, correct, duration_ms AS DurationMs,
                   auto_finished AS AutoFinished, attempts_left AS AttemptsLeft, national_rank AS NationalRank, national_size AS NationalSize,
                   unit_rank AS UnitRank, unit_size AS UnitSize, organisation_rank AS OrganisationRank, organisation_size AS OrganisationSize,
                   ladder_step AS LadderStep, ladder_rescued AS LadderRescued,
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

    /// <summary>Whether this participant's round has a result.</summary>
    public async Task<bool> IsFinishedAsync(long participantId, string roundId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM results WHERE round_id = @roundId AND participant_id = @participantId", new { roundId, participantId }) > 0;
    }

    /// <summary>A round that could not be put in play (Redis unreachable at its start): voided, its attempt given back.</summary>
    public Task VoidAsync(string roundId, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            var voided = await connection.QuerySingleOrDefaultAsync<VoidedRound>("""
                UPDATE rounds SET status = 'void' WHERE id = @roundId AND status = 'started'
                RETURNING participant_id AS ParticipantId, campaign_id AS CampaignId, stage_id AS StageId, day AS Day
                """, new { roundId }, tx);
            if (voided is not null)
                await connection.ExecuteAsync("""
                    UPDATE attempts SET used = used - 1
                    WHERE participant_id = @ParticipantId AND campaign_id = @CampaignId AND stage_id = @StageId AND day = @Day
                    """, voided, tx);
            return voided is not null;
        }, ct);

    private sealed record VoidedRound(long ParticipantId, string CampaignId, string StageId, string Day);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> AnswerInserts = new();

    /// <summary>One multi-row INSERT for a round's answers (one statement instead of one per answer).</summary>
    private static string AnswersInsert(int count) => AnswerInserts.GetOrAdd(count, n =>
        "INSERT INTO answers (result_id, position, question_id, question_version, chosen, correct, points, elapsed_ms) VALUES " +
        string.Join(", ", Enumerable.Range(0, n).Select(i => $"(@resultId, @p{i}, @q{i}, @v{i}, @c{i}, @k{i}, @s{i}, @e{i})")));
}
