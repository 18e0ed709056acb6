namespace DistributedCron;

/// <summary>The built-in assigners.</summary>
public static class Assigners
{
    /// <summary>The assigner of <paramref name="strategy"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not an <see cref="AssignerStrategy"/>.</exception>
    public static IAssigner Create(AssignerStrategy strategy) => strategy switch
    {
        AssignerStrategy.Consistent => new ConsistentHashAssigner(),
        AssignerStrategy.HashSharding => new HashShardingAssigner(),
        AssignerStrategy.HashSlot => new HashSlotAssigner(),
        AssignerStrategy.Range => new RangeAssigner(),
        AssignerStrategy.Weighted => new WeightedAssigner(),
        AssignerStrategy.RoundRobin => new RoundRobinAssigner(),
        AssignerStrategy.Leader => new LeaderAssigner(),
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown assigner strategy."),
    };

    /// <summary>The node ids in ordinal order (the input order when it is already sorted, as the contract asks).</summary>
    internal static string[] SortedIds(IReadOnlyList<Node> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var ids = new string[nodes.Count];
        var sorted = true;
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = nodes[i].Id;
            if (i > 0 && string.CompareOrdinal(ids[i - 1], ids[i]) > 0)
            {
                sorted = false;
            }
        }

        if (!sorted)
        {
            Array.Sort(ids, StringComparer.Ordinal);
        }

        return ids;
    }
}

/// <summary>The assignment of a view without nodes: nobody owns anything.</summary>
internal sealed class NoOwnerAssignment : IAssignment
{
    public static readonly NoOwnerAssignment Instance = new();

    private NoOwnerAssignment()
    {
    }

    public string? OwnerOf(string task) => null;
}

/// <summary>Every task on one node.</summary>
internal sealed class SingleOwnerAssignment(string owner) : IAssignment
{
    public string? OwnerOf(string task) => owner;
}

/// <summary>
/// <c>Leader</c> (not in the Go library): every task on the first node by id, the single-active-instance mode of
/// leader-elected schedulers.
/// </summary>
public sealed class LeaderAssigner : IAssigner
{
    /// <inheritdoc />
    public string Name => "leader";

    /// <inheritdoc />
    public IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames)
    {
        var ids = Assigners.SortedIds(nodes);
        return ids.Length == 0 ? NoOwnerAssignment.Instance : new SingleOwnerAssignment(ids[0]);
    }
}

/// <summary><c>hash-sharding</c> (Go <c>NewHashShardingAssigner</c>): owner = <c>nodes[crc32(task) % N]</c>.</summary>
public sealed class HashShardingAssigner : IAssigner
{
    /// <inheritdoc />
    public string Name => "hash-sharding";

    /// <inheritdoc />
    public IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames)
    {
        var ids = Assigners.SortedIds(nodes);
        return ids.Length == 0 ? NoOwnerAssignment.Instance : new Assignment(ids);
    }

    private sealed class Assignment(string[] ids) : IAssignment
    {
        public string? OwnerOf(string task) => ids[Crc32.Compute(task) % (uint)ids.Length];
    }
}
