using System.Text;

namespace DistributedCron.Registry.Etcd;

/// <summary>
/// The key layout of one namespace. Tasks and tombstones share one prefix so that a single watch delivers both in
/// revision order (a put and a tombstone of one task never arrive swapped); fire states sit apart, because they change
/// at every fire and no watch needs them.
/// </summary>
/// <remarks>
/// <code>
/// /{ns}/nodes/{nodeId}          Node JSON, attached to the node's lease
/// /{ns}/tasks/meta/{name}       TaskMeta JSON
/// /{ns}/tasks/deleted/{name}    "" (tombstone)
/// /{ns}/fires/{name}            TaskFireState JSON (+ "claim_id" of the claim that wrote it)
/// </code>
/// </remarks>
internal sealed class EtcdKeys
{
    public EtcdKeys(string @namespace)
    {
        Root = $"/{@namespace}/";
        NodesPrefix = Root + "nodes/";
        TasksPrefix = Root + "tasks/";
        MetaPrefix = TasksPrefix + "meta/";
        DeletedPrefix = TasksPrefix + "deleted/";
        FiresPrefix = Root + "fires/";
    }

    public string Root { get; }

    public string NodesPrefix { get; }

    public string TasksPrefix { get; }

    public string MetaPrefix { get; }

    public string DeletedPrefix { get; }

    public string FiresPrefix { get; }

    public byte[] Node(string nodeId) => Bytes(NodesPrefix + nodeId);

    public byte[] Meta(string name) => Bytes(MetaPrefix + name);

    public byte[] Deleted(string name) => Bytes(DeletedPrefix + name);

    public byte[] Fire(string name) => Bytes(FiresPrefix + name);

    public static byte[] Bytes(string key) => Encoding.UTF8.GetBytes(key);

    /// <summary>The range end that makes [prefix, end) cover every key starting with <paramref name="prefix"/>.</summary>
    public static byte[] PrefixEnd(string prefix)
    {
        var end = Bytes(prefix);
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xFF)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }

        return [0]; // every byte 0xFF: to the end of the key space
    }

    /// <summary>The part of <paramref name="key"/> after <paramref name="prefix"/>, or null when the key is not under it.</summary>
    public static string? Tail(byte[] key, string prefix)
    {
        var s = Encoding.UTF8.GetString(key);
        return s.StartsWith(prefix, StringComparison.Ordinal) && s.Length > prefix.Length ? s[prefix.Length..] : null;
    }
}
