using System.Text;

namespace DistributedCron.Registry.Consul;

/// <summary>
/// The KV layout of one namespace. Tasks and tombstones share one prefix, so one blocking query sees both and a
/// task's metadata and tombstone changes are ordered by one index; fire states sit apart, because they change at
/// every fire and no watch needs them.
/// </summary>
/// <remarks>
/// <code>
/// {ns}/nodes/{nodeId}          Node JSON (+ "ttl_ms", "beat"), acquired by the node's session (Behavior=delete)
/// {ns}/tasks/meta/{name}       TaskMeta JSON
/// {ns}/tasks/deleted/{name}    empty value (tombstone)
/// {ns}/fires/{name}            TaskFireState JSON (+ "claim_id")
/// </code>
/// Names are escaped into <c>[A-Za-z0-9.-]</c> plus <c>_XX</c> (hex of each UTF-8 byte of any other character, and
/// of a '.' that starts the name or follows another '.'), because Consul 1.21.5 and later validate key names and
/// refuse "..": task names may contain ':' and '@', node ids anything. The escape is reversible; the common names
/// (<c>report</c>, <c>t001</c>, <c>10.0.0.7-1700000000-1</c>) are stored unchanged.
/// </remarks>
internal sealed class ConsulKeys
{
    public ConsulKeys(string @namespace)
    {
        Root = @namespace + "/";
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

    public string Node(string nodeId) => NodesPrefix + Escape(nodeId);

    public string Meta(string name) => MetaPrefix + Escape(name);

    public string Deleted(string name) => DeletedPrefix + Escape(name);

    public string Fire(string name) => FiresPrefix + Escape(name);

    /// <summary>The name stored under <paramref name="prefix"/> in <paramref name="key"/>, or null when the key is not directly under it.</summary>
    public static string? Tail(string key, string prefix)
    {
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || key.Length == prefix.Length)
        {
            return null;
        }

        var tail = key[prefix.Length..];
        return tail.Contains('/', StringComparison.Ordinal) ? null : Unescape(tail);
    }

    public static string Escape(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        var bytes = Encoding.UTF8.GetBytes(name);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var plain = b < 0x80 && (char.IsAsciiLetterOrDigit((char)b) || b == '-' || (b == '.' && i > 0 && bytes[i - 1] != '.'));
            if (plain)
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('_').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    public static string? Unescape(string escaped)
    {
        if (!escaped.Contains('_', StringComparison.Ordinal))
        {
            return escaped;
        }

        var bytes = new List<byte>(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            var c = escaped[i];
            if (c >= 0x80)
            {
                return null; // not written by this registry
            }

            if (c != '_')
            {
                bytes.Add((byte)c);
                continue;
            }

            if (i + 2 >= escaped.Length
                || !byte.TryParse(escaped.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b))
            {
                return null;
            }

            bytes.Add(b);
            i += 2;
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
