using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Quiz.Ranking;

/// <summary>Raw counts of one unit: the only figures stored; rates and averages are derived on read.</summary>
public readonly record struct Tally(long Participants, long Rounds, long Points)
{
    public static Tally operator +(Tally a, Tally b) => new(a.Participants + b.Participants, a.Rounds + b.Rounds, a.Points + b.Points);
    public bool IsZero => Participants == 0 && Rounds == 0 && Points == 0;
}

/// <summary>
/// Unit counters of one campaign, for the whole campaign and per day, kept only for the units a
/// person belongs to directly ("leaves"): the region path "r/province/city/county" and the
/// organisation "o/type/organisation". Every person has exactly one of each, so a parent's
/// distinct participants are exactly the sum of its children's: the roll-up happens on read
/// (<see cref="UnitBoards"/>). Not thread-safe; the owner locks.
/// </summary>
public sealed class UnitCounters
{
    public Dictionary<string, Tally> All { get; } = new(StringComparer.Ordinal);
    public Dictionary<DateOnly, Dictionary<string, Tally>> Days { get; } = new();
    public bool IsEmpty => All.Count == 0 && Days.Count == 0;

    public static string RegionLeaf(IReadOnlyList<string> regionPath) => regionPath.Count switch
    {
        // Memoised: every finish names its leaves, and there are only as many as units.
        1 => regionLeaves.GetOrAdd((regionPath[0], null, null), static k => "r/" + k.Item1),
        2 => regionLeaves.GetOrAdd((regionPath[0], regionPath[1], null), static k => "r/" + k.Item1 + "/" + k.Item2),
        3 => regionLeaves.GetOrAdd((regionPath[0], regionPath[1], regionPath[2]), static k => "r/" + k.Item1 + "/" + k.Item2 + "/" + k.Item3),
        _ => "r/" + string.Join('/', regionPath),
    };

    public static string? OrganisationLeaf(string? organisationId, string? organisationType) =>
        organisationId is null ? null : organisationLeaves.GetOrAdd((organisationId, organisationType), static k => "o/" + k.Item2 + "/" + k.Item1);

    static readonly ConcurrentDictionary<(string, string?, string?), string> regionLeaves = new();
    static readonly ConcurrentDictionary<(string, string?), string> organisationLeaves = new();

    /// <summary>Counts one applied round; <paramref name="firstEver"/>/<paramref name="firstToday"/> say whether the person is new to the campaign/day.</summary>
    public void Add(RoundFinished round, bool firstEver, bool firstToday)
    {
        var region = RegionLeaf(round.RegionPath);
        var organisation = OrganisationLeaf(round.OrganisationId, round.OrganisationType);
        ref var day = ref CollectionsMarshal.GetValueRefOrAddDefault(Days, round.Day, out _);
        day ??= new Dictionary<string, Tally>(StringComparer.Ordinal);
        var all = new Tally(firstEver ? 1 : 0, 1, round.Score);
        var today = new Tally(firstToday ? 1 : 0, 1, round.Score);
        Bump(All, region, all);
        Bump(day, region, today);
        if (organisation is null) return;
        Bump(All, organisation, all);
        Bump(day, organisation, today);
    }

    public IReadOnlyDictionary<string, Tally> For(DateOnly? day) =>
        day is { } d ? Days.GetValueOrDefault(d) ?? (IReadOnlyDictionary<string, Tally>)new Dictionary<string, Tally>() : All;

    static void Bump(Dictionary<string, Tally> tallies, string leaf, Tally delta)
    {
        ref var t = ref CollectionsMarshal.GetValueRefOrAddDefault(tallies, leaf, out _);
        t += delta;
    }
}
