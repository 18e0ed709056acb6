namespace DistributedCron;

/// <summary>
/// <c>hash-slot</c> (Go <c>NewHashSlotAssigner</c>): <see cref="SlotCount"/> slots split into contiguous blocks in
/// node order, the first <c>slots % N</c> nodes taking one extra slot; owner = the node of slot
/// <c>crc32(task) % slots</c>. Recomputed from scratch per view, so a membership change moves most slots.
/// </summary>
public sealed class HashSlotAssigner : IAssigner
{
    /// <summary>The Go library's slot count.</summary>
    public const int DefaultSlotCount = 16384;

    /// <summary>Creates the assigner with <paramref name="slotCount"/> slots (0 means <see cref="DefaultSlotCount"/>, as in Go).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slotCount"/> is negative.</exception>
    public HashSlotAssigner(int slotCount = DefaultSlotCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slotCount);
        SlotCount = slotCount == 0 ? DefaultSlotCount : slotCount;
    }

    /// <summary>The number of slots.</summary>
    public int SlotCount { get; }

    /// <inheritdoc />
    public string Name => "hash-slot";

    /// <inheritdoc />
    public IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames)
    {
        var ids = Assigners.SortedIds(nodes);
        return ids.Length == 0 ? NoOwnerAssignment.Instance : new Assignment(ids, SlotCount);
    }

    private sealed class Assignment(string[] ids, int slots) : IAssignment
    {
        private readonly int _per = slots / ids.Length;
        private readonly int _bigBlocksEnd = (slots % ids.Length) * ((slots / ids.Length) + 1);

        public string? OwnerOf(string task)
        {
            var slot = (int)(Crc32.Compute(task) % (uint)slots);
            var extra = slots % ids.Length;
            var node = slot < _bigBlocksEnd ? slot / (_per + 1) : extra + ((slot - _bigBlocksEnd) / _per);
            return ids[node];
        }
    }
}

/// <summary>
/// <c>range</c> (Go <c>NewRangeAssigner</c>): node i owns the ordinal interval (id[i-1], id[i]], the first node
/// everything up to its id and the last node everything after the id before it.
/// </summary>
/// <remarks>Generated node ids start with IP digits, which sort before letters, so letter-named tasks all land on
/// the last node (Go behaviour, kept for compatibility; prefer another strategy).</remarks>
public sealed class RangeAssigner : IAssigner
{
    /// <inheritdoc />
    public string Name => "range";

    /// <inheritdoc />
    public IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames)
    {
        var ids = Assigners.SortedIds(nodes);
        return ids.Length == 0 ? NoOwnerAssignment.Instance : new Assignment(ids);
    }

    private sealed class Assignment(string[] ids) : IAssignment
    {
        public string? OwnerOf(string task)
        {
            // The first i < N-1 with task <= id[i]; else the last node.
            int lo = 0, hi = ids.Length - 1;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (string.CompareOrdinal(task, ids[mid]) <= 0)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return ids[lo];
        }
    }
}

/// <summary>
/// <c>weighted</c> (Go <c>NewWeightedAssigner</c>): <c>r = crc32(task) % totalWeight</c>, walked over the nodes in
/// order by weight. A weight below 1 counts as 1 (the Go library divides by zero when every weight is 0).
/// </summary>
public sealed class WeightedAssigner : IAssigner
{
    /// <inheritdoc />
    public string Name => "weighted";

    /// <inheritdoc />
    public IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0)
        {
            return NoOwnerAssignment.Instance;
        }

        var sorted = nodes.OrderBy(n => n.Id, StringComparer.Ordinal).ToArray();
        var ids = new string[sorted.Length];
        var upper = new ulong[sorted.Length]; // cumulative weight through node i
        ulong total = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            ids[i] = sorted[i].Id;
            total += (ulong)Math.Max(1, sorted[i].Weight);
            upper[i] = total;
        }

        return new Assignment(ids, upper, total);
    }

    private sealed class Assignment(string[] ids, ulong[] upper, ulong total) : IAssignment
    {
        public string? OwnerOf(string task)
        {
            var r = Crc32.Compute(task) % total;
            var i = Array.BinarySearch(upper, r);
            // The owner is the first node whose cumulative weight exceeds r.
            i = i >= 0 ? i + 1 : ~i;
            return ids[i];
        }
    }
}

/// <summary>
/// <c>round-robin</c> (Go <c>NewRoundRobinAssigner</c>, stated without its call-order state): the k-th task of the
/// sorted task list goes to node k mod N. A task outside the list has no owner.
/// </summary>
/// <remarks>Nodes agree only when they pass the same task list; adding or removing one task moves most tasks.</remarks>
public sealed class RoundRobinAssigner : IAssigner
{
    /// <inheritdoc />
    public string Name => "round-robin";

    /// <inheritdoc />
    public IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        var ids = Assigners.SortedIds(nodes);
        if (ids.Length == 0)
        {
            return NoOwnerAssignment.Instance;
        }

        var tasks = new string[taskNames.Count];
        var sorted = true;
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = taskNames[i];
            if (i > 0 && string.CompareOrdinal(tasks[i - 1], tasks[i]) > 0)
            {
                sorted = false;
            }
        }

        if (!sorted)
        {
            Array.Sort(tasks, StringComparer.Ordinal);
        }

        return new Assignment(ids, tasks);
    }

    private sealed class Assignment(string[] ids, string[] tasks) : IAssignment
    {
        public string? OwnerOf(string task)
        {
            var k = Array.BinarySearch(tasks, task, StringComparer.Ordinal);
            return k < 0 ? null : ids[k % ids.Length];
        }
    }
}
