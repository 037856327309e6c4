using System.Data.Common;
using System.Text.Json;
using Dapper;
using Quiz.Server.Storage;

namespace Quiz.Server.Questions;

/// <summary>The question bank in the store: versions in, current questions out.</summary>
public sealed class QuestionBank(Database database, TimeProvider clock)
{
    public sealed record Saved(int Added, int Updated, int Unchanged);

    private long _generation;

    /// <summary>Changes whenever a save changed the bank, so readers with a cache know to reload.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>The bank changed in the store by another node's save: readers with a cache reload.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    private const string CurrentHashes = """
        SELECT q.id, q.current_version, v.content_hash
        FROM questions q JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version
        """;

    /// <summary>Current content hash per question id: what an import compares against.</summary>
    public async Task<Dictionary<string, (int Version, string Hash)>> CurrentHashesAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<(string Id, int Version, string Hash)>(CurrentHashes);
        return rows.ToDictionary(r => r.Id, r => (r.Version, r.Hash), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Saves a validated set in one transaction: a new id becomes version 1, changed content a new
    /// version, unchanged content nothing at all.
    /// </summary>
    public async Task<Saved> SaveAsync(IReadOnlyList<Question> questions, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var current = (await connection.QueryAsync<(string Id, int Version, string Hash)>(CurrentHashes, transaction: tx)).ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);
        var now = clock.GetUtcNow().ToString("O");
        int added = 0, updated = 0, unchanged = 0;
        foreach (var question in questions)
        {
            var hash = question.ContentHash();
            var found = current.TryGetValue(question.Id, out var existing);
            var id = found ? existing.Id : question.Id; // ids match case-insensitively; the first spelling stays
            int version;
            if (!found)
            {
                version = 1;
                await connection.ExecuteAsync("""
                    INSERT INTO questions (id, current_version, created_at, updated_at) VALUES (@Id, 1, @Now, @Now)
                    """, new { Id = id, Now = now }, tx);
                added++;
            }
            else if (existing.Hash == hash)
            {
                unchanged++;
                continue;
            }
            else
            {
                version = existing.Version + 1;
                await connection.ExecuteAsync("""
                    UPDATE questions SET current_version = @version, updated_at = @Now WHERE id = @Id
                    """, new { Id = id, version, Now = now }, tx);
                updated++;
            }
            await InsertVersionAsync(connection, tx, id, version, hash, question, now);
        }
        await tx.CommitAsync(ct);
        if (added + updated > 0) Invalidate();
        return new Saved(added, updated, unchanged);
    }

    private static Task InsertVersionAsync(DbConnection connection, DbTransaction tx, string id, int version, string hash, Question q, string now) =>
        connection.ExecuteAsync("""
            INSERT INTO question_versions
                (question_id, version, content_hash, type, stem, options, answer, explanation, source, tracks, category, difficulty, tags, created_at)
            VALUES (@id, @version, @hash, @Type, @Stem, @Options, @Answer, @Explanation, @Source, @Tracks, @Category, @Difficulty, @Tags, @now)
            """,
            new
            {
                id, version, hash, q.Type, q.Stem, Options = JsonSerializer.Serialize(q.Options), q.Answer, q.Explanation,
                q.Source, Tracks = JsonSerializer.Serialize(q.Tracks), q.Category, q.Difficulty, Tags = JsonSerializer.Serialize(q.Tags), now,
            }, tx);

    public async Task<int> CountAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM questions");
    }

    /// <summary>The current version of every question, optionally filtered, for admins and for drawing rounds.</summary>
    public async Task<List<StoredQuestion>> ListAsync(string? track = null, string? category = null, string? search = null, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<StoredQuestionRow>("""
            SELECT v.question_id AS Id, v.version AS Version, v.type AS Type, v.stem AS Stem, v.options AS Options,
                   v.answer AS Answer, v.explanation AS Explanation, v.source AS Source, v.tracks AS Tracks,
                   v.category AS Category, v.difficulty AS Difficulty, v.tags AS Tags
            FROM questions q JOIN question_versions v ON v.question_id = q.id AND v.version = q.current_version
            WHERE (@category IS NULL OR v.category = @category)
              AND (@search IS NULL OR v.stem LIKE '%' || @search || '%' OR v.question_id = @search)
            ORDER BY v.question_id
            """, new { category, search });
        return rows.Select(r => r.ToStored()).Where(q => track is null || q.Question.Tracks.Contains(track)).ToList();
    }

    /// <summary>One exact version: what a finished round points at.</summary>
    public async Task<StoredQuestion?> GetVersionAsync(string id, int version, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<StoredQuestionRow>("""
            SELECT question_id AS Id, version AS Version, type AS Type, stem AS Stem, options AS Options, answer AS Answer,
                   explanation AS Explanation, source AS Source, tracks AS Tracks, category AS Category,
                   difficulty AS Difficulty, tags AS Tags
            FROM question_versions WHERE question_id = @id AND version = @version
            """, new { id, version });
        return row?.ToStored();
    }

    private sealed record StoredQuestionRow(
        string Id, long Version, string Type, string Stem, string Options, string Answer, string Explanation,
        string Source, string Tracks, string Category, long Difficulty, string Tags)
    {
        public StoredQuestion ToStored() => new(
            new Question(Id, Type, Stem, Json(Options), Answer, Explanation, Source, Json(Tracks), Category, (int)Difficulty, Json(Tags)),
            (int)Version);

        private static List<string> Json(string text) => JsonSerializer.Deserialize<List<string>>(text) ?? [];
    }
}

public sealed record StoredQuestion(Question Question, int Version);
