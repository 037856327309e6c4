using Dapper;
using Quiz.Server.Storage;

namespace Quiz.Server.Circulars;

/// <summary>
/// The circulars the schedule issued (table issued_circulars), with their files. The files are
/// kept as they were issued rather than made again on download: an issued circular is a document
/// an office has sent on, and late rounds (a finish committed after 20:00, a catch-up of the
/// projections) would otherwise change its figures after the fact. A DOCX and its annex take
/// ~15 KB (CircularScaleTests), so a month of every province and city (47 offices in the bundled
/// hierarchy, ~37 circulars each) is some 25 MB.
/// </summary>
public sealed class IssuedCirculars(Database database, StoreWriter writer)
{
    /// <summary>A class, not a positional record: SQLite types columns loosely, which only property mapping tolerates.</summary>
    public sealed class Row
    {
        public long Id { get; init; }
        public required string CampaignId { get; init; }
        public required string Kind { get; init; }
        public required string UnitCode { get; init; }
        public required string PeriodFrom { get; init; }
        public required string PeriodTo { get; init; }
        public required string IssuedAt { get; init; }
    }

    private const string Columns =
        "id AS Id, campaign_id AS CampaignId, kind AS Kind, unit_code AS UnitCode, period_from AS PeriodFrom, period_to AS PeriodTo, issued_at AS IssuedAt";

    /// <summary>The units whose circular of this kind and period is already issued.</summary>
    public async Task<HashSet<string>> UnitsIssuedAsync(string campaignId, CircularKind kind, DateOnly from, DateOnly to, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var codes = await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT unit_code FROM issued_circulars
            WHERE campaign_id = @campaignId AND kind = @kind AND period_from = @from AND period_to = @to
            """, new { campaignId, kind = CircularSchedule.Name(kind), from = Day(from), to = Day(to) }, cancellationToken: ct));
        return codes.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Writes one issued circular unless it is there already; true when this call wrote it.</summary>
    public Task<bool> AddAsync(string campaignId, CircularKind kind, string unitCode, DateOnly from, DateOnly to, DateTimeOffset issuedAt,
        byte[] docx, byte[] xlsx, CancellationToken ct = default) =>
        writer.WriteAsync(async (connection, tx) => await connection.ExecuteAsync("""
            INSERT INTO issued_circulars (campaign_id, kind, unit_code, period_from, period_to, issued_at, docx, xlsx)
            VALUES (@campaignId, @kind, @unitCode, @from, @to, @issuedAt, @docx, @xlsx)
            ON CONFLICT (campaign_id, kind, unit_code, period_from, period_to) DO NOTHING
            """, new { campaignId, kind = CircularSchedule.Name(kind), unitCode, from = Day(from), to = Day(to), issuedAt = issuedAt.ToString("O"), docx, xlsx },
            tx) == 1, ct);

    /// <summary>Every circular issued for the campaign (without the files), newest period first.</summary>
    public async Task<List<Row>> ListAsync(string campaignId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<Row>(new CommandDefinition($"""
            SELECT {Columns} FROM issued_circulars WHERE campaign_id = @campaignId
            ORDER BY period_to DESC, period_from DESC, kind, unit_code
            """, new { campaignId }, cancellationToken: ct))).ToList();
    }

    /// <summary>One issued circular and one of its files: the DOCX, or the annex when <paramref name="annex"/>.</summary>
    public async Task<(Row Row, byte[] File)?> FileAsync(string campaignId, long id, bool annex, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM issued_circulars WHERE campaign_id = @campaignId AND id = @id", new { campaignId, id }, cancellationToken: ct));
        if (row is null) return null;
        var file = await connection.ExecuteScalarAsync<byte[]>(new CommandDefinition(
            $"SELECT {(annex ? "xlsx" : "docx")} FROM issued_circulars WHERE id = @id", new { id }, cancellationToken: ct));
        return (row, file!);
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd");
}
