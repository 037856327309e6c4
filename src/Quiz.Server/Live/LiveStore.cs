using System.Data.Common;
using System.Text.Json;
using Dapper;
using Quiz.Server.Storage;

namespace Quiz.Server.Live;

/// <summary>
/// What a live session decides, in the store: written through the store's one writer as it
/// happens (the session, each player at their join, each question with its answers at its reveal),
/// so exports and reports read only the store and a node that takes a session over finds it all.
/// </summary>
public sealed class LiveStore(Database database, StoreWriter writer)
{
    /// <summary>A session's fixed part: its questions (id and version, in play order) and rules.</summary>
    public sealed record Definition(
        IReadOnlyList<QuestionRef> Questions, IReadOnlyList<LiveRoundRule> Rounds, int QuestionSeconds, SpeedRule Speed);

    public sealed record QuestionRef(string Id, int Version);

    public sealed record SessionRow(
        string Id, string Code, string Title, string? UnitCode, string CreatedBy, string CreatedAt, string Definition, string Phase, string? EndedAt)
    {
        public Definition Rules => JsonSerializer.Deserialize<Definition>(Definition, Json)!;
    }

    public sealed record PlayerRow(long Id, string RejoinHash, string Nickname, string? RegionCode, long? ParticipantId, string JoinedAt);

    public sealed record QuestionRow(long QuestionIndex, string QuestionId, long Version, string Kind, long Skipped, string ShownAt, long? BuzzWinner);

    public sealed record AnswerRow(long QuestionIndex, long PlayerId, string Choices, long Correct, long Points, long ElapsedMs);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { Hosting.JsonEnums.Converter() } };

    private const string SessionColumns =
        "id AS Id, code AS Code, title AS Title, unit_code AS UnitCode, created_by AS CreatedBy, created_at AS CreatedAt, definition AS Definition, phase AS Phase, ended_at AS EndedAt";

    public Task CreateAsync(SessionRow session, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) => await connection.ExecuteAsync("""
            INSERT INTO live_sessions (id, code, title, unit_code, created_by, created_at, definition, phase, ended_at)
            VALUES (@Id, @Code, @Title, @UnitCode, @CreatedBy, @CreatedAt, @Definition, @Phase, @EndedAt)
            """, session, tx), ct);

    /// <summary>Is a 6-digit code in use by a session that has not ended?</summary>
    public async Task<bool> CodeInUseAsync(string code, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM live_sessions WHERE code = @code AND ended_at IS NULL", new { code }) > 0;
    }

    public async Task<SessionRow?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<SessionRow>($"SELECT {SessionColumns} FROM live_sessions WHERE id = @id", new { id });
    }

    public async Task<SessionRow?> ByCodeAsync(string code, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<SessionRow>(
            $"SELECT {SessionColumns} FROM live_sessions WHERE code = @code AND ended_at IS NULL", new { code });
    }

    public async Task<List<SessionRow>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<SessionRow>($"SELECT {SessionColumns} FROM live_sessions ORDER BY created_at DESC, id")).ToList();
    }

    /// <summary>Thrown by a write of a node whose room another node has taken since: nothing of it is written.</summary>
    public sealed class MovedException(string sessionId, long owner)
        : Exception($"live session {sessionId} is run by another node now (this node's owner number {owner} is stale)")
    {
        public string SessionId { get; } = sessionId;
    }

    /// <summary>Makes this node the session's owner: the next owner number, which every later write of its room names.</summary>
    public Task<long> ClaimAsync(string id) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            await connection.ExecuteAsync("UPDATE live_sessions SET owner = owner + 1 WHERE id = @id", new { id }, tx);
            return await connection.ExecuteScalarAsync<long>("SELECT owner FROM live_sessions WHERE id = @id", new { id }, tx);
        });

    /// <summary>
    /// In the write's own transaction, before anything else: the session is still this owner's. On
    /// PostgreSQL the update also locks the row, so a claim by another node waits for this commit.
    /// </summary>
    private static async Task FenceAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, string id, long owner)
    {
        if (await connection.ExecuteAsync("UPDATE live_sessions SET owner = owner WHERE id = @id AND owner = @owner", new { id, owner }, tx) == 0)
            throw new MovedException(id, owner);
    }

    public Task SetPhaseAsync(string id, long owner, LivePhase phase, DateTimeOffset now) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            await FenceAsync(connection, tx, id, owner);
            return await connection.ExecuteAsync(
                "UPDATE live_sessions SET phase = @phase, ended_at = CASE WHEN @ended = 1 THEN @now ELSE ended_at END WHERE id = @id",
                new { id, phase = Name(phase), ended = phase == LivePhase.Ended ? 1 : 0, now = now.ToString("O") }, tx);
        });

    public Task AddPlayerAsync(string sessionId, long owner, PlayerRow player) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            await FenceAsync(connection, tx, sessionId, owner);
            return await connection.ExecuteAsync("""
                INSERT INTO live_players (session_id, id, rejoin_hash, nickname, region_code, participant_id, joined_at)
                VALUES (@sessionId, @Id, @RejoinHash, @Nickname, @RegionCode, @ParticipantId, @JoinedAt)
                """, new { sessionId, player.Id, player.RejoinHash, player.Nickname, player.RegionCode, player.ParticipantId, player.JoinedAt }, tx);
        });

    /// <summary>A participant rejoining by their token after a hand-over gets a new key (only its hash is kept).</summary>
    public Task SetRejoinHashAsync(string sessionId, long owner, long playerId, string hash) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            await FenceAsync(connection, tx, sessionId, owner);
            return await connection.ExecuteAsync(
                "UPDATE live_players SET rejoin_hash = @hash WHERE session_id = @sessionId AND id = @playerId", new { sessionId, playerId, hash }, tx);
        });

    /// <summary>A revealed (or skipped) question and its answers, in one transaction: a report never sees half of one.</summary>
    public Task SaveQuestionAsync(string sessionId, long owner, QuestionRow question, IReadOnlyList<AnswerRow> answers) =>
        writer.WriteAsync(async (connection, tx) =>
        {
            await FenceAsync(connection, tx, sessionId, owner);
            await connection.ExecuteAsync("""
                INSERT INTO live_questions (session_id, question_index, question_id, version, kind, skipped, shown_at, buzz_winner)
                VALUES (@sessionId, @QuestionIndex, @QuestionId, @Version, @Kind, @Skipped, @ShownAt, @BuzzWinner)
                """, new { sessionId, question.QuestionIndex, question.QuestionId, question.Version, question.Kind, question.Skipped, question.ShownAt, question.BuzzWinner }, tx);
            if (answers.Count > 0) await InsertAnswersAsync(connection, tx, sessionId, question.QuestionIndex, answers);
            return 0;
        });

    /// <summary>
    /// A question's answers (all of <paramref name="questionIndex"/>): one statement on PostgreSQL,
    /// statements of <see cref="AnswersPerStatement"/> rows on SQLite. Row by row (Dapper's list
    /// form) made seven parameter objects and their name lookups a row, ~30 MB of garbage for
    /// 10,000 phones, collected during the next question's fan-out; a set is a few values whatever
    /// the room's size.
    /// </summary>
    private async Task<int> InsertAnswersAsync(DbConnection connection, DbTransaction tx, string sessionId, long questionIndex, IReadOnlyList<AnswerRow> answers)
    {
        if (database.IsPostgres)
            return await connection.ExecuteAsync("""
                INSERT INTO live_answers (session_id, question_index, player_id, choices, correct, points, elapsed_ms)
                SELECT @sessionId, @questionIndex, a.* FROM unnest(@players, @choices, @correct, @points, @elapsed) AS a
                """, new
                {
                    sessionId, questionIndex,
                    players = answers.Select(a => a.PlayerId).ToArray(), choices = answers.Select(a => a.Choices).ToArray(),
                    correct = answers.Select(a => a.Correct).ToArray(), points = answers.Select(a => a.Points).ToArray(),
                    elapsed = answers.Select(a => a.ElapsedMs).ToArray(),
                }, tx);
        // SQLite has no arrays: the rows go as a JSON array of arrays, taken apart by json_each, a
        // few hundred rows at a time so that neither the text nor its buffer is a large object
        // (~330 KB of JSON for 10,000 rows in one: large objects count towards a full collection,
        // which then ran through the next question's fan-out; BENCHMARKS.md, live sessions).
        var rows = new System.Buffers.ArrayBufferWriter<byte>(AnswersPerStatement * 40);
        using var json = new Utf8JsonWriter(rows);
        var inserted = 0;
        for (var from = 0; from < answers.Count; from += AnswersPerStatement)
        {
            rows.ResetWrittenCount();
            json.Reset(rows);
            json.WriteStartArray();
            for (var i = from; i < Math.Min(from + AnswersPerStatement, answers.Count); i++)
            {
                var a = answers[i];
                json.WriteStartArray();
                json.WriteNumberValue(a.PlayerId); json.WriteStringValue(a.Choices);
                json.WriteNumberValue(a.Correct); json.WriteNumberValue(a.Points); json.WriteNumberValue(a.ElapsedMs);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.Flush();
            inserted += await connection.ExecuteAsync("""
                INSERT INTO live_answers (session_id, question_index, player_id, choices, correct, points, elapsed_ms)
                SELECT @sessionId, @questionIndex, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(@rows)
                """, new { sessionId, questionIndex, rows = System.Text.Encoding.UTF8.GetString(rows.WrittenSpan) }, tx);
        }
        return inserted;
    }

    /// <summary>Rows of one INSERT on SQLite: at most ~40 bytes of JSON a row, so the text (two bytes a character) stays under the 85,000 bytes of a large object.</summary>
    internal const int AnswersPerStatement = 500;

    public async Task<(List<PlayerRow> Players, List<QuestionRow> Questions, List<AnswerRow> Answers)> PlayedAsync(string sessionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var players = await connection.QueryAsync<PlayerRow>("""
            SELECT id AS Id, rejoin_hash AS RejoinHash, nickname AS Nickname, region_code AS RegionCode, participant_id AS ParticipantId, joined_at AS JoinedAt
            FROM live_players WHERE session_id = @sessionId ORDER BY id
            """, new { sessionId });
        var questions = await connection.QueryAsync<QuestionRow>("""
            SELECT question_index AS QuestionIndex, question_id AS QuestionId, version AS Version, kind AS Kind, skipped AS Skipped,
                   shown_at AS ShownAt, buzz_winner AS BuzzWinner
            FROM live_questions WHERE session_id = @sessionId ORDER BY question_index
            """, new { sessionId });
        var answers = await connection.QueryAsync<AnswerRow>("""
            SELECT question_index AS QuestionIndex, player_id AS PlayerId, choices AS Choices, correct AS Correct, points AS Points, elapsed_ms AS ElapsedMs
            FROM live_answers WHERE session_id = @sessionId ORDER BY question_index, player_id
            """, new { sessionId });
        return (players.ToList(), questions.ToList(), answers.ToList());
    }

    /// <summary>The final standings, summed in SQL from the answers of revealed questions: what exports say.</summary>
    public sealed record StandingRow(long PlayerId, string Nickname, string? RegionCode, long Points, long RightAnswers, long ElapsedMs);

    public async Task<List<StandingRow>> StandingsAsync(string sessionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<StandingRow>("""
            SELECT p.id AS PlayerId, p.nickname AS Nickname, p.region_code AS RegionCode,
                   -- CAST: PostgreSQL sums bigints into numeric, SQLite into integer; both read back as long.
                   CAST(COALESCE(SUM(a.points), 0) AS BIGINT) AS Points, CAST(COALESCE(SUM(a.correct), 0) AS BIGINT) AS RightAnswers,
                   CAST(COALESCE(SUM(a.elapsed_ms), 0) AS BIGINT) AS ElapsedMs
            FROM live_players p LEFT JOIN live_answers a ON a.session_id = p.session_id AND a.player_id = p.id
            WHERE p.session_id = @sessionId
            GROUP BY p.id, p.nickname, p.region_code
            ORDER BY Points DESC, ElapsedMs, p.id
            """, new { sessionId })).ToList();
    }

    public static string Name(LivePhase phase) => JsonNamingPolicyName(phase.ToString());
    public static string Name(LiveRoundKind kind) => JsonNamingPolicyName(kind.ToString());
    private static string JsonNamingPolicyName(string name) => JsonNamingPolicy.KebabCaseLower.ConvertName(name);
}
