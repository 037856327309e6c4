using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Quiz.Ranking;
using Quiz.Server.Questions;

namespace Quiz.Server.Campaigns;

/// <summary>
/// A campaign and its rules, as admins write them (question-bank/campaigns/*.json or the admin
/// API). Every season's rules are data here; nothing about a season is code.
/// </summary>
public sealed record Campaign
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>Who runs the campaign, as the registration screen names it before asking for a mobile number.</summary>
    public string? Organiser { get; init; }
    /// <summary>Offset of the campaign's days from UTC: China Standard Time by default (no DST).</summary>
    public string UtcOffset { get; init; } = "+08:00";
    public required IReadOnlyList<Stage> Stages { get; init; }
    /// <summary>
    /// What a region's participation rate divides by: its resident adults (the default), or the
    /// target headcount officials set for it (regions.csv's optional <c>target_base</c>).
    /// </summary>
    public HeadcountBase HeadcountBase { get; init; } = HeadcountBase.Residents;
    /// <summary>What the registration form asks for when it names this campaign (the seasons asked differently).</summary>
    public RegistrationRules Registration { get; init; } = new();
    /// <summary>The questions asked after a person's first round of the day, if any (see <see cref="Campaigns.Survey"/>).</summary>
    public Survey? Survey { get; init; }

    [JsonIgnore] public TimeSpan Offset => TimeSpan.Parse(UtcOffset.TrimStart('+'), CultureInfo.InvariantCulture);

    /// <summary>The campaign day an instant falls on.</summary>
    public DateOnly DayOf(DateTimeOffset instant) => DateOnly.FromDateTime(instant.ToOffset(Offset).DateTime);

    /// <summary>Midnight at the start of the first stage: the origin of the finish-time tie-break.</summary>
    [JsonIgnore] public DateTimeOffset Start => new(Stages.Min(s => s.StartDay).ToDateTime(TimeOnly.MinValue), Offset);

    public Stage? Stage(string id) => Stages.FirstOrDefault(s => s.Id == id);

    /// <summary>The stage whose window (days and clock times) holds an instant, if any.</summary>
    public Stage? StageAt(DateTimeOffset instant) => Stages.FirstOrDefault(s => s.IsOpenAt(instant, Offset));

    /// <summary>The stage whose days include a day, if any (its clock times aside).</summary>
    public Stage? StageOn(DateOnly day) => Stages.FirstOrDefault(s => s.StartDay <= day && day <= s.EndDay);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Every problem with the definition, in words an admin can act on.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (!Regex.IsMatch(Id ?? "", "^[a-z0-9-]{1,40}$")) errors.Add("id: lower-case letters, digits and '-', at most 40");
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100) errors.Add("name: 1 to 100 characters");
        if (Organiser is { Length: > 100 }) errors.Add("organiser: at most 100 characters");
        if (!Regex.IsMatch(UtcOffset ?? "", @"^[+-]?\d{2}:\d{2}$")) errors.Add("utcOffset: like +08:00");
        if (Registration is null) errors.Add("registration: an object, or left out for the defaults");
        else errors.AddRange(Registration.Validate().Select(e => $"registration.{e}"));
        if (Survey is not null) errors.AddRange(Survey.Validate().Select(e => $"survey.{e}"));
        if (Stages is not { Count: > 0 }) errors.Add("stages: at least one stage");
        else
        {
            foreach (var duplicate in Stages.GroupBy(s => s.Id).Where(g => g.Count() > 1)) errors.Add($"stages: id '{duplicate.Key}' is used twice");
            var ordered = Stages.OrderBy(s => s.StartDay).ToList();
            for (var i = 1; i < ordered.Count; i++)
                if (ordered[i].StartDay <= ordered[i - 1].EndDay) errors.Add($"stages: '{ordered[i - 1].Id}' and '{ordered[i].Id}' overlap");
            foreach (var stage in Stages) errors.AddRange(stage.Validate().Select(e => $"stages[{stage.Id}].{e}"));
            // Ranks encode the finish time since the campaign's start in a fixed number of bits.
            var days = Stages.Max(s => s.EndDay).DayNumber - Stages.Min(s => s.StartDay).DayNumber + 1;
            if (days > (int)RankScore.MaxCampaignLength.TotalDays)
                errors.Add($"stages: the campaign spans {days} days; ranking allows at most {(int)RankScore.MaxCampaignLength.TotalDays}");
        }
        return errors;
    }
}

/// <summary>
/// The registration form of a campaign. The defaults are the 2024 form (a county, a track); 2025
/// asked for the province alone and chose question pools by role, so it had no track to ask for.
/// </summary>
public sealed record RegistrationRules
{
    public RegionLevel RegionLevel { get; init; } = RegionLevel.County;
    public TrackChoice Track { get; init; } = TrackChoice.Required;

    public IEnumerable<string> Validate()
    {
        // The string converter also takes numbers, so an out-of-range one would pass the parse.
        if (!Enum.IsDefined(RegionLevel)) yield return "regionLevel: province, city or county";
        if (!Enum.IsDefined(Track)) yield return "track: required or none";
    }
}

/// <summary>
/// The names a campaign definition uses, also in the HTTP API's answers (which have no enum
/// converter of their own), so the phone page reads <c>"province"</c> and <c>"none"</c> as documented.
/// </summary>
public sealed class KebabCaseEnumConverter<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.KebabCaseLower) where T : struct, Enum;

/// <summary>The level of region a participant registers with; it is matched against regions.csv's <c>level</c>.</summary>
[JsonConverter(typeof(KebabCaseEnumConverter<RegionLevel>))]
public enum RegionLevel
{
    Province,
    City,
    /// <summary>The lowest level under the province (a county or district; a province or city without children is its own lowest level).</summary>
    County,
}

[JsonConverter(typeof(KebabCaseEnumConverter<TrackChoice>))]
public enum TrackChoice
{
    /// <summary>The participant picks a track; stages without scenes draw from its pool.</summary>
    Required,
    /// <summary>No track is asked for: the participant gets <c>general</c> (the campaign's scenes choose the pools).</summary>
    None,
}

[JsonConverter(typeof(KebabCaseEnumConverter<Aggregation>))]
public enum Aggregation
{
    /// <summary>The best single round counts.</summary>
    Best,
    /// <summary>The best round of each day counts, summed over the days.</summary>
    BestOfDaySummed,
    /// <summary>Every round counts.</summary>
    Sum,
    /// <summary>The best round of each scene counts (ties to the shorter time), summed over the scenes.</summary>
    BestPerSceneSummed,
}

[JsonConverter(typeof(KebabCaseEnumConverter<HeadcountBase>))]
public enum HeadcountBase
{
    /// <summary>The region's resident adults (regions.csv <c>headcount_base</c>).</summary>
    Residents,
    /// <summary>The headcount officials set as the target (regions.csv <c>target_base</c>; a region without one sums its children's).</summary>
    Target,
}

[JsonConverter(typeof(KebabCaseEnumConverter<MultipleScoring>))]
public enum MultipleScoring
{
    /// <summary>All right options and no wrong one, or nothing.</summary>
    AllOrNothing,
    /// <summary>Only right options but not all of them: half the points, rounded down.</summary>
    Partial,
}

public sealed record Points(int Single = 1, int Multiple = 1, int TrueFalse = 1)
{
    public int For(string type) => type switch
    {
        QuestionTypes.Single => Single,
        QuestionTypes.Multiple => Multiple,
        _ => TrueFalse,
    };
}
