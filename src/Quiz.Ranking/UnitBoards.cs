using System.Collections.Concurrent;

namespace Quiz.Ranking;

/// <summary>Raw counts of one unit: the only figures stored; rates and averages are derived on read.</summary>
public readonly record struct Tally(long Participants, long Rounds, long Points)
{
    public static Tally operator +(Tally a, Tally b) => new(a.Participants + b.Participants, a.Rounds + b.Rounds, a.Points + b.Points);
    public static Tally operator -(Tally a, Tally b) => new(a.Participants - b.Participants, a.Rounds - b.Rounds, a.Points - b.Points);
    public bool IsZero => Participants == 0 && Rounds == 0 && Points == 0;
}

/// <summary>
/// An immutable snapshot of every unit of a campaign (for the whole campaign or one day): the
/// leaves' figures rolled up to each level and joined with headcount bases, ranked per metric on demand.
/// Built by the cache refresh about once a second, so dashboards never recompute per request.
/// Ties share a rank and are listed by code.
/// </summary>
public sealed class UnitBoards
{
    sealed class Unit(UnitLevel level, string code, string? parent)
    {
        public UnitLevel Level = level;
        public string Code = code;
        public string? Parent = parent;
        public Tally Tally;
        public long ExplicitBase;
        public long Base;
    }

    readonly Dictionary<(UnitLevel, string), Unit> units = new();
    readonly ConcurrentDictionary<(UnitLevel, UnitMetric), Ranked> ranked = new();

    /// <summary>Identifies the input, so a refresh can tell whether anything changed.</summary>
    public long Fingerprint { get; }

    sealed record Ranked(IReadOnlyList<UnitStanding> Ordered, IReadOnlyDictionary<string, UnitStanding> ByCode);

    /// <summary>
    /// The key of the units a person belongs to directly ("leaves"): the region path
    /// "r/province/city/county" and the organisation "o/type/organisation". Every person has
    /// exactly one of each, so a parent's distinct participants are exactly the sum of its
    /// children's: the roll-up happens here.
    /// </summary>
    public static string RegionLeaf(IReadOnlyList<string> regionPath) => "r/" + string.Join('/', regionPath);

    /// <inheritdoc cref="RegionLeaf"/>
    public static string OrganisationLeaf(string organisationId, string? organisationType) => "o/" + organisationType + "/" + organisationId;

    /// <param name="leaves">Each leaf's figures, keyed by <see cref="RegionLeaf"/> and <see cref="OrganisationLeaf"/>.</param>
    public UnitBoards(IReadOnlyDictionary<string, Tally> leaves, IEnumerable<UnitBase> bases)
    {
        var fingerprint = new HashCode();
        foreach (var b in bases)
        {
            var u = Ensure(b.Level, b.Code, b.ParentCode);
            u.ExplicitBase = b.Headcount;
            fingerprint.Add(b);
        }
        long sum = 0;
        foreach (var (leaf, tally) in leaves)
        {
            sum = unchecked(sum * 31 + leaf.GetHashCode() ^ tally.GetHashCode());
            foreach (var u in Chain(leaf)) u.Tally += tally;
        }
        fingerprint.Add(sum);
        fingerprint.Add(leaves.Count);
        Fingerprint = fingerprint.ToHashCode();

        // Bases: explicit where given, else the sum of the children's (children first).
        foreach (var level in new[] { UnitLevel.County, UnitLevel.City, UnitLevel.Province, UnitLevel.Organisation, UnitLevel.OrganisationType })
            foreach (var u in units.Values.Where(u => u.Level == level))
            {
                if (u.ExplicitBase > 0) u.Base = u.ExplicitBase;
                if (u.Parent is { } p && ParentLevel(level) is { } pl && units.TryGetValue((pl, p), out var parent) && parent.ExplicitBase <= 0)
                    parent.Base += u.Base;
            }
    }

    static UnitLevel? ParentLevel(UnitLevel level) => level switch
    {
        UnitLevel.City => UnitLevel.Province,
        UnitLevel.County => UnitLevel.City,
        UnitLevel.Organisation => UnitLevel.OrganisationType,
        _ => null,
    };

    Unit Ensure(UnitLevel level, string code, string? parent)
    {
        if (!units.TryGetValue((level, code), out var u)) units[(level, code)] = u = new Unit(level, code, parent);
        else u.Parent ??= parent;
        return u;
    }

    IEnumerable<Unit> Chain(string leaf)
    {
        var parts = leaf.Split('/');
        if (parts[0] == "r")
        {
            string? parent = null;
            for (var i = 1; i < parts.Length; i++)
            {
                yield return Ensure((UnitLevel)(i - 1), parts[i], parent);
                parent = parts[i];
            }
        }
        else
        {
            var type = parts[1].Length == 0 ? null : parts[1];
            if (type is not null) yield return Ensure(UnitLevel.OrganisationType, type, null);
            yield return Ensure(UnitLevel.Organisation, parts[2], type);
        }
    }

    public IReadOnlyList<UnitStanding> Board(UnitLevel level, UnitMetric metric, string? parentCode, int count)
    {
        var r = Rank(level, metric);
        IEnumerable<UnitStanding> list = r.Ordered;
        if (parentCode is not null) list = list.Where(u => u.ParentCode == parentCode);
        return list.Take(count).ToList();
    }

    public UnitStanding? Find(UnitLevel level, UnitMetric metric, string code) =>
        Rank(level, metric).ByCode.GetValueOrDefault(code);

    Ranked Rank(UnitLevel level, UnitMetric metric) => ranked.GetOrAdd((level, metric), key =>
    {
        var list = units.Values.Where(u => u.Level == key.Item1)
            .Select(u => (u, v: Metric(u, key.Item2)))
            .OrderByDescending(x => x.v).ThenBy(x => x.u.Code, StringComparer.Ordinal).ToList();
        var national = CompetitionRanks(list.Select(x => x.v).ToList());
        var sibling = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var group in list.Select((x, i) => (x.u, x.v, i)).GroupBy(x => x.u.Parent ?? ""))
        {
            var g = group.ToList();
            var ranks = CompetitionRanks(g.Select(x => x.v).ToList());
            for (var i = 0; i < g.Count; i++) sibling[g[i].u.Code] = ranks[i];
        }
        var ordered = list.Select((x, i) => Standing(x.u, sibling[x.u.Code], national[i])).ToList();
        return new Ranked(ordered, ordered.ToDictionary(s => s.Code, StringComparer.Ordinal));
    });

    static long[] CompetitionRanks(IReadOnlyList<double> descending)
    {
        var ranks = new long[descending.Count];
        for (var i = 0; i < ranks.Length; i++)
            ranks[i] = i > 0 && descending[i] == descending[i - 1] ? ranks[i - 1] : i + 1;
        return ranks;
    }

    static double Metric(Unit u, UnitMetric metric) => metric switch
    {
        UnitMetric.Participants => u.Tally.Participants,
        UnitMetric.ParticipationRate => Rate(u),
        UnitMetric.Rounds => u.Tally.Rounds,
        UnitMetric.Points => u.Tally.Points,
        UnitMetric.AveragePoints => Average(u),
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };

    static double Rate(Unit u) => u.Base > 0 ? (double)u.Tally.Participants / u.Base : 0;
    static double Average(Unit u) => u.Tally.Participants > 0 ? (double)u.Tally.Points / u.Tally.Participants : 0;

    static UnitStanding Standing(Unit u, long siblingRank, long nationalRank) => new(
        u.Level, u.Code, u.Parent, u.Tally.Participants, u.Base, Rate(u),
        u.Tally.Rounds, u.Tally.Points, Average(u), siblingRank, nationalRank);
}
