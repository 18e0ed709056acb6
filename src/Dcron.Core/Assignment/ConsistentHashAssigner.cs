namespace DistributedCron;

/// <summary>
/// <c>consistent</c> (the default; Go <c>NewConsistentHashAssigner</c>, groupcache's <c>consistenthash</c>): a ring
/// of <see cref="Replicas"/> points per node at <c>crc32(decimal(i) + nodeId)</c>, i = 0..199; the owner of a task
/// is the node of the first point ≥ <c>crc32(task)</c>, wrapping to the first point.
/// </summary>
/// <remarks>
/// Points are written in node order, then replica order, and on a collision the later write wins, as in Go, so the
/// same ids give the same owners. The ring is built once per <see cref="Build"/>; a lookup is a binary search.
/// </remarks>
public sealed class ConsistentHashAssigner : IAssigner
{
    /// <summary>Points per node.</summary>
    public const int Replicas = 200;

    /// <inheritdoc />
    public string Name => "consistent";

    /// <inheritdoc />
    public IAssignment Build(IReadOnlyList<Node> nodes, IReadOnlyList<string> taskNames)
    {
        var ids = Assigners.SortedIds(nodes);
        if (ids.Length == 0)
        {
            return NoOwnerAssignment.Instance;
        }

        var points = new uint[ids.Length * Replicas];
        var writers = new int[points.Length]; // the node that wrote each point, in write order
        for (var n = 0; n < ids.Length; n++)
        {
            for (var i = 0; i < Replicas; i++)
            {
                var k = (n * Replicas) + i;
                points[k] = Crc32.Finish(Crc32.Append(Crc32.AppendDecimal(Crc32.Seed, i), ids[n]));
                writers[k] = k;
            }
        }

        // Sort by point; among equal points the last write comes last, and it owns every copy of that point.
        Array.Sort(points, writers);
        var owners = new string[points.Length];
        var start = 0;
        while (start < points.Length)
        {
            var end = start;
            var lastWrite = writers[start];
            while (end + 1 < points.Length && points[end + 1] == points[start])
            {
                end++;
                lastWrite = Math.Max(lastWrite, writers[end]);
            }

            var owner = ids[lastWrite / Replicas];
            for (var k = start; k <= end; k++)
            {
                owners[k] = owner;
            }

            start = end + 1;
        }

        return new Ring(points, owners);
    }

    private sealed class Ring(uint[] points, string[] owners) : IAssignment
    {
        public string? OwnerOf(string task)
        {
            var h = Crc32.Compute(task);
            var i = Array.BinarySearch(points, h); // on a hit, any copy of the point will do: copies share one owner
            if (i < 0)
            {
                i = ~i;
            }

            return owners[i == points.Length ? 0 : i];
        }
    }
}
