using DistributedCron.Registry.Consul.Client;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.Consul;

/// <summary>A node held by a session whose key changed within its TTL, as one listing saw it.</summary>
/// <param name="Key">The node's key.</param>
/// <param name="ModifyIndex">The key's ModifyIndex in that listing.</param>
/// <param name="Node">The decoded node (without the heartbeat counter).</param>
internal readonly record struct LiveNode(string Key, ulong ModifyIndex, Node Node);

/// <summary>A node key whose value could not be decoded.</summary>
/// <param name="Key">The key.</param>
/// <param name="Error">Why.</param>
/// <param name="New">True the first time this key's current value is seen (log it then, not at every listing).</param>
internal readonly record struct UnreadableNode(string Key, RegistryException Error, bool New);

/// <summary>What <see cref="ConsulNodeLiveness.Observe"/> made of one listing of the nodes prefix.</summary>
/// <param name="Live">The live nodes, in the listing's (key) order.</param>
/// <param name="Unreadable">Keys held by a session whose value is not a node record.</param>
/// <param name="NextDeadline">The timestamp (<see cref="TimeProvider.GetTimestamp"/>) at which the first live node goes silent, if any.</param>
internal sealed record NodeListing(IReadOnlyList<LiveNode> Live, IReadOnlyList<UnreadableNode> Unreadable, long? NextDeadline);

/// <summary>
/// What one registry instance has seen of the node keys: per key, the ModifyIndex last seen and the local monotonic
/// time (<see cref="TimeProvider.GetTimestamp"/>) at which that index was first seen. Every heartbeat rewrites its
/// node's key, so a key whose ModifyIndex has not changed for longer than the TTL recorded in it belongs to a node that
/// stopped heart-beating: it is left out of the live nodes (until its key changes again), without waiting for Consul
/// to reap the session (2 × a session TTL of at least 10 s). No clock is compared across machines: only intervals of
/// this process's monotonic clock between two observations of the same key.
/// </summary>
/// <remarks>
/// A key seen for the first time (a new watcher, a new key, or after <see cref="Restart"/>) starts its clock then, so
/// nobody is declared dead before a full TTL of observation. Any listing of the whole nodes prefix (a watch's answer,
/// <c>GetNodesAsync</c>) feeds the same state; keys absent from a listing are forgotten, so it stays one entry per node.
/// An older listing processed after a newer one can only make a key look changed, which delays its expiry (never
/// advances it). Thread-safe.
/// </remarks>
internal sealed class ConsulNodeLiveness(TimeProvider time, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Sighting> _seen = new(StringComparer.Ordinal);

    /// <summary>The number of keys tracked (tests).</summary>
    internal int Count
    {
        get
        {
            lock (_gate)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>The clock this tracker reads.</summary>
    public TimeProvider Time => time;

    /// <summary>
    /// Records a listing of the whole nodes prefix (only the keys held by a session, under the prefix) and returns the
    /// live nodes in it: readable, and changed within their recorded TTL (a record without a TTL is always live).
    /// </summary>
    public NodeListing Observe(IEnumerable<KvEntry> entries)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            var live = new List<LiveNode>();
            var unreadable = new List<UnreadableNode>();
            var present = new HashSet<string>(StringComparer.Ordinal);
            long? next = null;
            foreach (var e in entries)
            {
                present.Add(e.Key);
                var isNew = false;
                if (!_seen.TryGetValue(e.Key, out var s) || s.ModifyIndex != e.ModifyIndex)
                {
                    var previous = s;
                    s = Sighting.Of(e, now);
                    isNew = true;
                    if (previous is { Silent: true } && s.Record is not null)
                    {
                        ConsulLog.NodeBack(logger, s.Record.Node.Id, time.GetElapsedTime(previous.ChangedAt, now));
                    }

                    _seen[e.Key] = s;
                }

                if (s.Record is null)
                {
                    unreadable.Add(new UnreadableNode(e.Key, s.Error!, isNew));
                    continue;
                }

                if (s.Record.Ttl is { } ttl)
                {
                    var silence = time.GetElapsedTime(s.ChangedAt, now);
                    if (silence > ttl)
                    {
                        if (!s.Silent)
                        {
                            s.Silent = true;
                            ConsulLog.NodeSilent(logger, s.Record.Node.Id, silence, ttl);
                        }

                        continue;
                    }

                    var deadline = s.ChangedAt + (long)Math.Ceiling(ttl.TotalSeconds * time.TimestampFrequency);
                    next = next is { } n && n <= deadline ? n : deadline;
                }

                live.Add(new LiveNode(e.Key, e.ModifyIndex, s.Record.Node));
            }

            if (_seen.Count > present.Count)
            {
                foreach (var gone in _seen.Keys.Where(k => !present.Contains(k)).ToList())
                {
                    _seen.Remove(gone);
                }
            }

            return new NodeListing(live, unreadable, next);
        }
    }

    /// <summary>Forgets every sighting, so every key starts a full TTL again at its next observation (after a watch was cut off from Consul).</summary>
    public void Restart()
    {
        lock (_gate)
        {
            _seen.Clear();
        }
    }

    /// <summary>How long until <paramref name="deadline"/> (a timestamp of <see cref="Time"/>); negative when it passed.</summary>
    public TimeSpan Until(long deadline) => time.GetElapsedTime(time.GetTimestamp(), deadline);

    /// <summary>One key as last seen.</summary>
    private sealed class Sighting
    {
        public required ulong ModifyIndex { get; init; }

        /// <summary>When this ModifyIndex was first seen.</summary>
        public required long ChangedAt { get; init; }

        public ConsulNodeRecord? Record { get; init; }

        public RegistryException? Error { get; init; }

        /// <summary>Already reported as silent (log once per silence).</summary>
        public bool Silent { get; set; }

        public static Sighting Of(KvEntry e, long now)
        {
            try
            {
                return new Sighting { ModifyIndex = e.ModifyIndex, ChangedAt = now, Record = ConsulNodeRecord.Decode(e) };
            }
            catch (RegistryException ex)
            {
                return new Sighting { ModifyIndex = e.ModifyIndex, ChangedAt = now, Error = ex };
            }
        }
    }
}
