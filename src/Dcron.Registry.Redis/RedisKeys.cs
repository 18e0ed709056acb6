using StackExchange.Redis;

namespace DistributedCron.Registry.Redis;

/// <summary>
/// The key layout of one namespace. Every key starts with the hash tag <c>{ns}:</c>, so the multi-key Lua scripts
/// also run on Redis Cluster (all keys of a namespace share one slot).
/// </summary>
internal sealed class RedisKeys
{
    public RedisKeys(string ns, int database, string channelPrefix)
    {
        Namespace = ns;
        var p = "{" + ns + "}:";
        Nodes = p + "nodes";
        NodeExpiry = p + "nodes:expiry";
        NodeTtl = p + "nodes:ttl";
        NodeRevision = p + "nodes:rev";
        Tasks = p + "tasks";
        Tombstones = p + "tombstones";
        Fires = p + "fires";
        Outcomes = p + "outcomes";
        TaskRevision = p + "tasks:rev";

        // Pub/sub channels are global across databases: the database index keeps two databases apart. Lua
        // publishes the full name, so it includes the multiplexer's ChannelPrefix, which the subscriber adds itself.
        var suffix = database < 0 ? "" : ":db" + database;
        NodeChannel = p + "nodes:events" + suffix;
        TaskChannel = p + "tasks:events" + suffix;
        NodeChannelPublished = channelPrefix + NodeChannel;
        TaskChannelPublished = channelPrefix + TaskChannel;
        NodeKeys = [Nodes, NodeExpiry, NodeTtl, NodeRevision];
        TaskKeys = [Tasks, Tombstones, Fires, Outcomes, TaskRevision];
        FireKeys = [Fires, Outcomes];
    }

    public string Namespace { get; }

    /// <summary>HASH node id → Node JSON.</summary>
    public RedisKey Nodes { get; }

    /// <summary>ZSET node id → expiry in server milliseconds (Lua TIME + TTL).</summary>
    public RedisKey NodeExpiry { get; }

    /// <summary>HASH node id → TTL in milliseconds (what a heartbeat extends by).</summary>
    public RedisKey NodeTtl { get; }

    /// <summary>STRING counter incremented by every membership change; each change publishes one message.</summary>
    public RedisKey NodeRevision { get; }

    /// <summary>HASH task name → TaskMeta JSON.</summary>
    public RedisKey Tasks { get; }

    /// <summary>HASH task name → server milliseconds of the tombstoning.</summary>
    public RedisKey Tombstones { get; }

    /// <summary>HASH task name → <c>lastScheduledMs:fencingToken:owner</c>.</summary>
    public RedisKey Fires { get; }

    /// <summary>HASH task name → FireOutcome JSON of the latest completed run.</summary>
    public RedisKey Outcomes { get; }

    /// <summary>STRING counter incremented by every change of tasks or tombstones.</summary>
    public RedisKey TaskRevision { get; }

    /// <summary>The channel subscribed to for membership changes (without the multiplexer's channel prefix).</summary>
    public string NodeChannel { get; }

    /// <summary>The channel subscribed to for task and tombstone changes (without the channel prefix).</summary>
    public string TaskChannel { get; }

    /// <summary>The membership channel as Lua publishes it (with the channel prefix).</summary>
    public string NodeChannelPublished { get; }

    /// <summary>The task channel as Lua publishes it (with the channel prefix).</summary>
    public string TaskChannelPublished { get; }

    /// <summary>KEYS of the membership scripts: nodes, expiry, ttl, revision.</summary>
    public RedisKey[] NodeKeys { get; }

    /// <summary>KEYS of the task scripts: tasks, tombstones, fires, outcomes, revision.</summary>
    public RedisKey[] TaskKeys { get; }

    /// <summary>KEYS of the claim scripts: fires, outcomes.</summary>
    public RedisKey[] FireKeys { get; }
}
