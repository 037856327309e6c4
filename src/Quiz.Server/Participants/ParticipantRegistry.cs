using System.Data.Common;
using System.Text.RegularExpressions;
using Dapper;
using Quiz.Server.Campaigns;
using Quiz.Server.Questions;
using Quiz.Server.Storage;
using Quiz.Server.Units;

namespace Quiz.Server.Participants;

public sealed record Participant(long Id, string Nickname, string MobileMasked, string RegionCode, string? OrganisationCode, string Track);

/// <summary>
/// Validation and lookup of participants. The mobile number is the identity, and a participant is
/// created only once the number is proven (<see cref="Verifications"/>).
/// </summary>
public sealed partial class ParticipantRegistry
{
    private readonly Database database;
    private readonly UnitDirectory units;
    private readonly CampaignCatalog campaigns;

    public ParticipantRegistry(Database database, UnitDirectory units, CampaignCatalog campaigns)
    {
        this.database = database;
        this.units = units;
        this.campaigns = campaigns;
    }

    /// <summary>The track stored when a campaign asks for none: stages without scenes then draw from the general pool.</summary>
    public const string DefaultTrack = "general";

    /// <summary>A participant to create, or to find by their number's hash when it is registered already.</summary>
    public sealed record NewParticipant(string Hash, string Masked, string Nickname, string RegionCode, string? Organisation, string Track, string Now,
        long? InvitedBy = null);

    /// <summary>
    /// Inside the caller's write transaction: the participant for this number, created now or the
    /// one registered before (the same number is the same person; their units stay as first
    /// registered, so counts cannot be moved).
    /// </summary>
    public static async Task<(long Id, bool Created)> CreateOrFindAsync(DbConnection connection, DbTransaction tx, NewParticipant p)
    {
        var id = await connection.ExecuteScalarAsync<long?>("""
            INSERT INTO participants (mobile_hash, mobile_masked, nickname, region_code, organisation_code, track, registered_at, invited_by)
            VALUES (@Hash, @Masked, @Nickname, @RegionCode, @Organisation, @Track, @Now, @InvitedBy)
            ON CONFLICT (mobile_hash) DO NOTHING
            RETURNING id
            """, p, tx);
        return id is { } created ? (created, true) : (await connection.ExecuteScalarAsync<long>("SELECT id FROM participants WHERE mobile_hash = @Hash", p, tx), false);
    }

    /// <param name="InviteCode">A friend's invitation code (from their link), if the person came through one.</param>
    /// <param name="CampaignId">The campaign whose form this is: its <see cref="RegistrationRules"/> apply; without it, the defaults.</param>
    public sealed record Registration(string? Nickname, string? Mobile, string? RegionCode, string? OrganisationCode, string? Track, string? InviteCode = null,
        string? CampaignId = null);

    /// <summary>A registration that passed validation: the number normalised, the units known to exist, the inviter found.</summary>
    public sealed record Profile(string Mobile, string Nickname, string RegionCode, string? OrganisationCode, string Track, long? InvitedBy = null);

    /// <summary>The profile, or the errors by field name. Looks at nothing but the units, so it says nothing about the number.</summary>
    public (Profile? Profile, Dictionary<string, string[]> Errors) Validate(Registration r)
    {
        var errors = new Dictionary<string, string[]>();
        var rules = new RegistrationRules();
        if (r.CampaignId is { Length: > 0 } campaignId)
        {
            if (campaigns.Get(campaignId) is { } campaign) rules = campaign.Registration;
            else errors["campaignId"] = ["no campaign with this id: send one from GET /api/campaigns, or leave it out"];
        }
        var nickname = r.Nickname?.Trim();
        if (NicknameRules.Check(nickname) is { } nicknameError) errors["nickname"] = [nicknameError];
        var mobile = NormaliseMobile(r.Mobile);
        if (mobile is null) errors["mobile"] = ["a mainland mobile number of 11 digits, starting with 1, is required"];
        if (r.RegionCode is null || units.Region(r.RegionCode) is not { } region) errors["regionCode"] = ["pick a region from the list"];
        else if (RegionError(region, rules.RegionLevel) is { } regionError) errors["regionCode"] = [regionError];
        if (r.OrganisationCode is { Length: > 0 } org && units.Organisation(org) is null) errors["organisationCode"] = ["pick an organisation from the list"];
        var track = r.Track?.Trim().ToLowerInvariant();
        // A form without a track question may still send one (an older page): a valid one is kept.
        if (string.IsNullOrEmpty(track) && rules.Track == TrackChoice.None) track = DefaultTrack;
        if (track is null || !Tracks.All.Contains(track)) errors["track"] = [$"one of {string.Join(", ", Tracks.All)}"];
        if (errors.Count > 0) return (null, errors);
        return (new Profile(mobile!, nickname!, r.RegionCode!, string.IsNullOrEmpty(r.OrganisationCode) ? null : r.OrganisationCode, track!), errors);
    }

    /// <summary>
    /// Counts roll up the region's path, so the level registered is the finest board a person counts
    /// on: a province-level participant counts on their province's boards and rates only.
    /// </summary>
    private string? RegionError(Region region, RegionLevel level) => level switch
    {
        RegionLevel.County when !units.IsLowestLevel(region.Code) => "pick the lowest level (the county or district)",
        RegionLevel.City when region.Level != "city" => "pick a city (the second level)",
        RegionLevel.Province when region.Level != "province" => "pick a province (the top level)",
        _ => null,
    };

    /// <summary>Participants never change once registered, so lookups on the play path are served from memory.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Participant> _known = new();
    private const int MaxKnown = 2_000_000;
    /// <summary>
    /// The entries of <see cref="_known"/>, kept apart: a ConcurrentDictionary's Count takes every
    /// one of its locks, and it was 0.5 % of the server's CPU in the opening burst (perf).
    /// </summary>
    private int _knownCount;

    public async Task<Participant?> GetAsync(long id, CancellationToken ct = default)
    {
        if (_known.TryGetValue(id, out var known)) return known;
        var participant = await LoadAsync(id, ct);
        return participant is null ? null : Remember(participant);
    }

    /// <summary>A participant just created, kept so that the first lookups need not read it back.</summary>
    public Participant Remember(Participant participant)
    {
        if (Volatile.Read(ref _knownCount) < MaxKnown && _known.TryAdd(participant.Id, participant)) Interlocked.Increment(ref _knownCount);
        return participant;
    }

    private async Task<Participant?> LoadAsync(long id, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Participant>("""
            SELECT id, nickname, mobile_masked AS MobileMasked, region_code AS RegionCode,
                   organisation_code AS OrganisationCode, track
            FROM participants WHERE id = @id
            """, new { id });
    }

    /// <summary>"138 1234-5678", "+86 13812345678" → "13812345678"; null when not a mainland mobile number.</summary>
    public static string? NormaliseMobile(string? raw)
    {
        if (raw is null || raw.Length > 30) return null;
        var digits = NotDigits().Replace(raw, "");
        if (raw.TrimStart().StartsWith('+') || digits.Length == 13 && digits.StartsWith("86")) digits = digits.StartsWith("86") ? digits[2..] : digits;
        if (digits.Length == 15 && digits.StartsWith("0086")) digits = digits[4..];
        return MobilePattern().IsMatch(digits) ? digits : null;
    }

    public static string Mask(string mobile) => $"{mobile[..3]}****{mobile[^4..]}";

    [GeneratedRegex(@"[^\d]")] private static partial Regex NotDigits();
    [GeneratedRegex(@"^1[3-9]\d{9}$")] private static partial Regex MobilePattern();
}
