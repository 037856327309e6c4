using System.Collections.Frozen;
using System.Text.Json;
using Dapper;
using Quiz.Server.Storage;

namespace Quiz.Server.Campaigns;

/// <summary>Campaign definitions in the store, served from memory.</summary>
public sealed class CampaignCatalog(Database database, TimeProvider clock)
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

    public async Task SaveAsync(Campaign campaign, CancellationToken ct = default)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            await connection.ExecuteAsync("""
                INSERT INTO campaigns (id, name, definition, updated_at) VALUES (@Id, @Name, @Definition, @Now)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, definition = excluded.definition, updated_at = excluded.updated_at
                """, new { campaign.Id, campaign.Name, Definition = JsonSerializer.Serialize(campaign, Campaign.Json), Now = clock.GetUtcNow().ToString("O") });
        }
        await LoadAsync(ct);
    }
}
