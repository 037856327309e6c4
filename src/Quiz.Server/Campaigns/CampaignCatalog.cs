using System.Collections.Frozen;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using Quiz.Server.Storage;

namespace Quiz.Server.Campaigns;

/// <summary>Campaign definitions in the store, served from memory.</summary>
public sealed class CampaignCatalog(Database database, StoreWriter writer, TimeProvider clock)
{
    private FrozenDictionary<string, Campaign> _campaigns = FrozenDictionary<string, Campaign>.Empty;

    public IReadOnlyCollection<Campaign> All => _campaigns.Values;

    public Campaign? Get(string id) => _campaigns.GetValueOrDefault(id);

    /// <summary>One load at a time: a load that read the store earlier must not replace what a later one read.</summary>
    private readonly SemaphoreSlim _loading = new(1, 1);

    public async Task LoadAsync(CancellationToken ct = default)
    {
        await _loading.WaitAsync(ct);
        try
        {
            await using var connection = await database.OpenAsync(ct);
            var rows = await connection.QueryAsync<string>("SELECT definition FROM campaigns");
            _campaigns = rows.Select(d => JsonSerializer.Deserialize<Campaign>(d, Campaign.Json)!).ToFrozenDictionary(c => c.Id);
        }
        finally { _loading.Release(); }
        Changed?.Invoke();
    }

    /// <summary>Raised after the campaigns were (re)loaded, e.g. so the ranking sets a new campaign's headcount bases.</summary>
    public event Action? Changed;

    /// <summary>Parses and validates a definition; the campaign, or every problem with it.</summary>
    public static (Campaign? Campaign, List<string> Errors) Parse(string json)
    {
        try
        {
            var campaign = JsonSerializer.Deserialize<Campaign>(json, Campaign.Json);
            if (campaign is null) return (null, ["the definition is empty"]);
            var errors = campaign.Validate();
            return (errors.Count == 0 ? campaign : null, errors);
        }
        catch (JsonException e)
        {
            return (null, [$"not a campaign definition: {e.Message}"]);
        }
    }

    /// <summary>Stores a definition (its survey's version stamped, see <see cref="StampSurveyAsync"/>) and reloads; the campaign as stored.</summary>
    public async Task<Campaign> SaveAsync(Campaign campaign, CancellationToken ct = default)
    {
        var saved = await writer.WriteAsync(async (connection, tx) =>
        {
            var stamped = await StampSurveyAsync(connection, tx, campaign);
            await connection.ExecuteAsync("""
                INSERT INTO campaigns (id, name, definition, updated_at) VALUES (@Id, @Name, @Definition, @Now)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, definition = excluded.definition, updated_at = excluded.updated_at
                """, new { stamped.Id, stamped.Name, Definition = JsonSerializer.Serialize(stamped, Campaign.Json), Now = clock.GetUtcNow().ToString("O") }, tx);
            return stamped;
        }, ct);
        await LoadAsync(ct);
        return saved;
    }

    /// <summary>
    /// The campaign with its survey's version: the latest stored version when the questions are the
    /// same, else the next one, stored beside the others. Versions are never changed once written
    /// (not even before anyone answered), so an answer being written can never find its questions
    /// changed under it, and old answers keep the questions they answered.
    /// </summary>
    private async Task<Campaign> StampSurveyAsync(DbConnection connection, DbTransaction tx, Campaign campaign)
    {
        if (campaign.Survey is not { } survey) return campaign;
        var latest = await connection.QueryFirstOrDefaultAsync<StoredSurvey>(
            "SELECT version AS Version, definition AS Definition FROM survey_versions WHERE campaign_id = @Id ORDER BY version DESC LIMIT 1", new { campaign.Id }, tx);
        if (latest is not null && JsonSerializer.Deserialize<Survey>(latest.Definition, Campaign.Json)!.Content() == survey.Content())
            return campaign with { Survey = survey with { Version = (int)latest.Version } };
        var next = survey with { Version = (int)(latest?.Version ?? 0) + 1 };
        await connection.ExecuteAsync(
            "INSERT INTO survey_versions (campaign_id, version, definition, created_at) VALUES (@Id, @Version, @Definition, @Now)",
            new { campaign.Id, next.Version, Definition = JsonSerializer.Serialize(next, Campaign.Json), Now = clock.GetUtcNow().ToString("O") }, tx);
        return campaign with { Survey = next };
    }

    private sealed class StoredSurvey
    {
        public long Version { get; init; }
        public required string Definition { get; init; }
    }
}
