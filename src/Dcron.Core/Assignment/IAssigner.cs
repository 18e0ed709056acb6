namespace DistributedCron;

/// <summary>The built-in assignment strategies.</summary>
public enum AssignerStrategy
{
    /// <summary>Consistent hash ring, 200 points per node on CRC-32 (the default; moves few tasks on membership change).</summary>
    Consistent = 0,

    /// <summary><c>nodes[crc32(task) % N]</c>.</summary>
    HashSharding = 1,

    /// <summary>16,384 slots in contiguous blocks in node order; <c>slot = crc32(task) % 16384</c>.</summary>
    HashSlot = 2,

    /// <summary>Ordinal intervals between the sorted node ids.</summary>
    Range = 3,

    /// <summary><c>crc32(task) % totalWeight</c> walked over the nodes by weight.</summary>
    Weighted = 4,

    /// <summary>The k-th sorted task goes to node k mod N.</summary>
    RoundRobin = 5,

    /// <summary>Every task on the first working node by id: the single-active-instance mode.</summary>
    Leader = 6,
}

/// <summary>
/// A deterministic function from (working nodes sorted by id, task names sorted ordinal) to the owner of each task.
/// Nodes holding the same view must compute the same owners.
/// </summary>
public interface IAssigner
{
    /// <summary>The strategy's name (e.g. "consistent").</summary>
    string Name { get; }

    /// <summary>Computes the assignment for one view.</summary>
    /// <param name="nodes">The working nodes, sorted by <see cref="Node.Id"/> (ordinal).</param>
    /// <param name="taskNames">The task names to place, sorted ordinal, tombstoned names excluded.</param>
    IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames);
}

/// <summary>The owners computed for one view.</summary>
public interface IAssignment
{
    /// <summary>The id of the node that owns <paramref name="task"/>, or null when no node does (no working node).</summary>
    string? OwnerOf(string task);
}
