using System.Runtime.CompilerServices;

namespace Quiz.Ranking;

/// <summary>
/// One individual board in memory: an order-statistics B+ tree of (value desc, participant asc).
/// Every inner node keeps its children's sizes, so insert, remove, rank and the i-th member are
/// O(log n) and a rank sums sizes within a node instead of visiting children.
/// <para>
/// Why not <c>ImmutableSortedSet.Builder</c> (an AVL tree with subtree counts, used before): it
/// spends a heap object of ~64 bytes a member, and an update walks ~20 of them, each a likely cache
/// miss at a million members; a profile of the in-process fill put 49 % of its CPU in its Add. Here
/// a leaf holds 64 members inline (1 KB) and a million members sit ~4 levels deep, so the upper
/// levels stay in cache and an update touches a handful of lines; the collector sees one object
/// per leaf instead of one per member.
/// </para>
/// Not thread-safe; the owner locks.
/// </summary>
public sealed class SortedBoard
{
    readonly record struct Member(long Value, long ParticipantId)
    {
        /// <summary>Board order: greater values first, then lower participant ids.</summary>
        public static int Compare(in Member a, in Member b) =>
            a.Value != b.Value ? (a.Value > b.Value ? -1 : 1) : a.ParticipantId.CompareTo(b.ParticipantId);
    }

    const int Capacity = 64;
    /// <summary>A node this small after a removal merges with a neighbour that leaves room to grow.</summary>
    const int MergeBelow = Capacity / 4, MergedAtMost = Capacity * 3 / 4;

    [InlineArray(Capacity)] struct Members { Member _; }
    [InlineArray(Capacity)] struct Children { Node _; }
    [InlineArray(Capacity)] struct Sizes { int _; }

    abstract class Node
    {
        /// <summary>Entries in this node: members of a leaf, children of an inner node.</summary>
        public int Count;
    }

    sealed class Leaf : Node
    {
        public Members Items;
    }

    sealed class Inner : Node
    {
        public Children Child;
        /// <summary>Members in each child's subtree.</summary>
        public Sizes Size;
        /// <summary>Low[i] (i ≥ 1): every member of child i sorts at or after it, every member of child i − 1 before it.</summary>
        public Members Low;

        /// <summary>The child whose range holds <paramref name="key"/>.</summary>
        public int ChildFor(in Member key)
        {
            int lo = 1, hi = Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (Member.Compare(Low[mid], key) <= 0) lo = mid + 1; else hi = mid;
            }
            return lo - 1;
        }

        public int SizeBefore(int child)
        {
            var sum = 0;
            for (var j = 0; j < child; j++) sum += Size[j];
            return sum;
        }

        public int Total => SizeBefore(Count);
    }

    Node root = new Leaf();

    public int Count { get; private set; }

    public void Set(long participantId, long? oldValue, long newValue)
    {
        if (oldValue is { } old) Remove(new Member(old, participantId));
        Insert(new Member(newValue, participantId));
    }

    /// <summary>Takes a member off the board. Boards only ever replace a member's value; the tests drain a tree with it.</summary>
    internal void RemoveMember(long participantId, long value) => Remove(new Member(value, participantId));

    /// <summary>
    /// Walks the whole tree and throws at the first broken rule: sizes as counted, members in order
    /// within each child's bounds, every node but the root non-empty. For the tests.
    /// </summary>
    internal void CheckInvariants()
    {
        Member? previous = null;
        var total = Walk(root, null, null, isRoot: true, ref previous);
        if (total != Count) throw new InvalidOperationException($"The board counts {Count} members but holds {total}.");

        static int Walk(Node node, Member? low, Member? high, bool isRoot, ref Member? previous)
        {
            if (node.Count == 0 && !isRoot) throw new InvalidOperationException("An empty node is still linked.");
            if (node is Leaf leaf)
            {
                for (var i = 0; i < leaf.Count; i++)
                {
                    var m = leaf.Items[i];
                    if (previous is { } p && Member.Compare(p, m) >= 0) throw new InvalidOperationException($"{m} follows {p}.");
                    if (low is { } l && Member.Compare(m, l) < 0 || high is { } h && Member.Compare(m, h) >= 0)
                        throw new InvalidOperationException($"{m} lies outside its leaf's bounds {low}..{high}.");
                    previous = m;
                }
                return leaf.Count;
            }
            var inner = (Inner)node;
            var total = 0;
            for (var j = 0; j < inner.Count; j++)
            {
                var size = Walk(inner.Child[j], j == 0 ? low : inner.Low[j], j + 1 < inner.Count ? inner.Low[j + 1] : high, false, ref previous);
                if (size != inner.Size[j]) throw new InvalidOperationException($"A child holds {size} members, its parent says {inner.Size[j]}.");
                total += size;
            }
            return total;
        }
    }

    /// <summary>1 + the number of members with a greater value: equal values share a rank.</summary>
    public long RankOf(long value) =>
        // long.MinValue sorts before every real member of that value: its insertion point is the
        // count of greater values.
        Locate(new Member(value, long.MinValue), out _) + 1;

    /// <summary>The 0-based position of a member whose value is known; negative if it is not there.</summary>
    public int PositionOf(long participantId, long value)
    {
        var at = Locate(new Member(value, participantId), out var found);
        return found ? at : -1;
    }

    public IReadOnlyList<BoardEntry> Range(int start, int count)
    {
        start = Math.Max(0, start);
        var end = Math.Min(Count, start + Math.Max(0, count));
        var members = new List<Member>(Math.Max(0, end - start));
        if (end > start) Copy(root, start, end - start, members);
        var list = new List<BoardEntry>(members.Count);
        for (var i = 0; i < members.Count; i++)
        {
            var m = members[i];
            var rank = i > 0 && list[^1].Value == m.Value ? list[^1].Rank : (i == 0 ? RankOf(m.Value) : start + i + 1);
            list.Add(new BoardEntry(m.ParticipantId, rank, m.Value));
        }
        return list;
    }

    public IEnumerable<(long ParticipantId, long Value)> All()
    {
        // By position, a leaf at a time: O(log n) a leaf, and no iterator nested per level.
        var buffer = new List<Member>(Capacity);
        for (var start = 0; start < Count; start += buffer.Count)
        {
            buffer.Clear();
            Copy(root, start, Capacity, buffer);
            foreach (var m in buffer) yield return (m.ParticipantId, m.Value);
        }
    }

    /// <summary>The number of members sorting before <paramref name="key"/>; whether it is itself a member.</summary>
    int Locate(in Member key, out bool found)
    {
        var before = 0;
        var node = root;
        while (node is Inner inner)
        {
            var i = inner.ChildFor(key);
            before += inner.SizeBefore(i);
            node = inner.Child[i];
        }
        found = Find((Leaf)node, key, out var at);
        return before + at;
    }

    /// <summary>Whether the leaf holds <paramref name="key"/>; <paramref name="at"/> is its position, or where it would go.</summary>
    static bool Find(Leaf leaf, in Member key, out int at)
    {
        int lo = 0, hi = leaf.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Member.Compare(leaf.Items[mid], key) < 0) lo = mid + 1; else hi = mid;
        }
        at = lo;
        return at < leaf.Count && Member.Compare(leaf.Items[at], key) == 0;
    }

    /// <summary>Appends up to <paramref name="count"/> members from position <paramref name="start"/> of the subtree.</summary>
    static void Copy(Node node, int start, int count, List<Member> into)
    {
        if (node is Leaf leaf)
        {
            for (var i = start; i < leaf.Count && count > 0; i++, count--) into.Add(leaf.Items[i]);
            return;
        }
        var inner = (Inner)node;
        for (var j = 0; j < inner.Count && count > 0; j++)
        {
            if (start >= inner.Size[j]) { start -= inner.Size[j]; continue; }
            var before = into.Count;
            Copy(inner.Child[j], start, count, into);
            count -= into.Count - before;
            start = 0;
        }
    }

    void Insert(in Member key)
    {
        if (InsertInto(root, key, out var right, out var low) is false) return;
        Count++;
        if (right is null) return;
        var top = new Inner { Count = 2 };
        top.Child[0] = root;
        top.Child[1] = right;
        top.Low[1] = low;
        top.Size[0] = SizeOf(root);
        top.Size[1] = SizeOf(right);
        root = top;
    }

    static int SizeOf(Node node) => node is Inner inner ? inner.Total : node.Count;

    /// <summary>
    /// Inserts into the subtree; false if the key was already there. A node that was full splits:
    /// <paramref name="right"/> is its new right half, <paramref name="low"/> the first key of it.
    /// </summary>
    static bool InsertInto(Node node, in Member key, out Node? right, out Member low)
    {
        right = null;
        low = default;
        if (node is Leaf leaf)
        {
            if (Find(leaf, key, out var at)) return false;
            if (leaf.Count == Capacity)
            {
                var half = new Leaf { Count = Capacity / 2 };
                ((Span<Member>)leaf.Items)[(Capacity / 2)..].CopyTo(half.Items);
                leaf.Count = Capacity / 2;
                right = half;
                low = half.Items[0];
                if (at > leaf.Count) { at -= leaf.Count; leaf = half; }
            }
            Span<Member> items = leaf.Items;
            items[at..leaf.Count].CopyTo(items[(at + 1)..]);
            items[at] = key;
            leaf.Count++;
            return true;
        }

        var inner = (Inner)node;
        var i = inner.ChildFor(key);
        var child = inner.Child[i];
        if (!InsertInto(child, key, out var split, out var splitLow)) return false;
        inner.Size[i]++;
        if (split is null) return true;

        inner.Size[i] = SizeOf(child);
        var target = inner;
        var slot = i + 1;
        if (inner.Count == Capacity)
        {
            var half = new Inner();
            var moved = Capacity / 2;
            ((Span<Node>)inner.Child)[moved..].CopyTo(half.Child);
            ((Span<int>)inner.Size)[moved..].CopyTo(half.Size);
            ((Span<Member>)inner.Low)[moved..].CopyTo(half.Low);
            ((Span<Node>)inner.Child)[moved..].Clear();
            ((Span<int>)inner.Size)[moved..].Clear();
            ((Span<Member>)inner.Low)[moved..].Clear();
            half.Count = Capacity - moved;
            inner.Count = moved;
            right = half;
            low = half.Low[0];
            if (slot > moved) { target = half; slot -= moved; }
        }
        Span<Node> children = target.Child;
        Span<int> sizes = target.Size;
        Span<Member> lows = target.Low;
        children[slot..target.Count].CopyTo(children[(slot + 1)..]);
        sizes[slot..target.Count].CopyTo(sizes[(slot + 1)..]);
        lows[slot..target.Count].CopyTo(lows[(slot + 1)..]);
        children[slot] = split;
        sizes[slot] = SizeOf(split);
        lows[slot] = splitLow;
        target.Count++;
        return true;
    }

    void Remove(in Member key)
    {
        if (!RemoveFrom(root, key)) return;
        Count--;
        // A root with one child hands the tree to it; an emptied tree starts again from a leaf.
        while (root is Inner { Count: <= 1 } top) root = top.Count == 1 ? top.Child[0] : new Leaf();
    }

    /// <summary>Removes from the subtree; false if the key was not there. A child left small merges with a neighbour.</summary>
    static bool RemoveFrom(Node node, in Member key)
    {
        if (node is Leaf leaf)
        {
            if (!Find(leaf, key, out var at)) return false;
            Span<Member> items = leaf.Items;
            items[(at + 1)..leaf.Count].CopyTo(items[at..]);
            leaf.Count--;
            return true;
        }

        var inner = (Inner)node;
        var i = inner.ChildFor(key);
        var child = inner.Child[i];
        if (!RemoveFrom(child, key)) return false;
        inner.Size[i]--;
        if (child.Count == 0) RemoveChild(inner, i);
        else if (child.Count < MergeBelow)
        {
            if (i + 1 < inner.Count && child.Count + inner.Child[i + 1].Count <= MergedAtMost) Merge(inner, i);
            else if (i > 0 && inner.Child[i - 1].Count + child.Count <= MergedAtMost) Merge(inner, i - 1);
        }
        return true;
    }

    /// <summary>Moves child j + 1's entries into child j and drops child j + 1.</summary>
    static void Merge(Inner parent, int j)
    {
        var left = parent.Child[j];
        var right = parent.Child[j + 1];
        if (left is Leaf l)
        {
            var r = (Leaf)right;
            ((Span<Member>)r.Items)[..r.Count].CopyTo(((Span<Member>)l.Items)[l.Count..]);
            l.Count += r.Count;
        }
        else
        {
            var li = (Inner)left;
            var ri = (Inner)right;
            ((Span<Node>)ri.Child)[..ri.Count].CopyTo(((Span<Node>)li.Child)[li.Count..]);
            ((Span<int>)ri.Size)[..ri.Count].CopyTo(((Span<int>)li.Size)[li.Count..]);
            ((Span<Member>)ri.Low)[..ri.Count].CopyTo(((Span<Member>)li.Low)[li.Count..]);
            // The right node's first child was bounded by the parent's separator, not by its own Low[0].
            li.Low[li.Count] = parent.Low[j + 1];
            li.Count += ri.Count;
        }
        parent.Size[j] += parent.Size[j + 1];
        RemoveChild(parent, j + 1);
    }

    static void RemoveChild(Inner parent, int j)
    {
        Span<Node> children = parent.Child;
        Span<int> sizes = parent.Size;
        Span<Member> lows = parent.Low;
        children[(j + 1)..parent.Count].CopyTo(children[j..]);
        sizes[(j + 1)..parent.Count].CopyTo(sizes[j..]);
        lows[(j + 1)..parent.Count].CopyTo(lows[j..]);
        parent.Count--;
        // Vacated slots hold nothing stale: a merge must set the separator it brings in.
        children[parent.Count] = null!;
        sizes[parent.Count] = 0;
        lows[parent.Count] = default;
    }
}
