using System.Text;

namespace DistributedCron.Registry.ZooKeeper;

/// <summary>The znode layout of one namespace: <c>[/chroot]/{ns}/{nodes,tasks,fires}/…</c>.</summary>
internal sealed class ZkPaths
{
    public ZkPaths(string chroot, string @namespace)
    {
        Root = chroot + "/" + @namespace;
        Nodes = Root + "/nodes";
        Tasks = Root + "/tasks";
        Fires = Root + "/fires";
        var layout = new List<string>();
        var prefix = "";
        foreach (var seg in chroot.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            prefix += "/" + seg;
            layout.Add(prefix);
        }

        layout.AddRange([Root, Nodes, Tasks, Fires]);
        Layout = layout;
    }

    /// <summary>The namespace's own znode.</summary>
    public string Root { get; }

    /// <summary>Ephemeral znodes, one per live node (data: Node JSON).</summary>
    public string Nodes { get; }

    /// <summary>Persistent znodes, one per task name (data: its metadata and tombstone, <see cref="TaskRecord"/> JSON).</summary>
    public string Tasks { get; }

    /// <summary>Persistent znodes, one per task (data: TaskFireState JSON).</summary>
    public string Fires { get; }

    /// <summary>Every znode of the layout, parents first (the chroot's segments, the root, the three directories).</summary>
    public IReadOnlyList<string> Layout { get; }

    public string Node(string nodeId) => Nodes + "/" + EncodeNodeId(nodeId);

    public string Task(string name) => Tasks + "/" + name;

    public string Fire(string name) => Fires + "/" + name;

    /// <summary>
    /// A node id as one znode name: <c>[A-Za-z0-9._:@-]</c> is kept, anything else (and a leading '.') becomes
    /// <c>%XX</c> per UTF-8 byte, so every id maps to a distinct legal name.
    /// </summary>
    public static string EncodeNodeId(string id)
    {
        var sb = new StringBuilder(id.Length);
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if ((char.IsAsciiLetterOrDigit(c) || c is '_' or ':' or '@' or '-' || (c == '.' && i > 0)) && c != '%')
            {
                sb.Append(c);
                continue;
            }

            var len = char.IsSurrogatePair(id, i) ? 2 : 1;
            foreach (var b in Encoding.UTF8.GetBytes(id.Substring(i, len)))
            {
                sb.Append('%').Append(b.ToString("X2"));
            }

            i += len - 1;
        }

        return sb.ToString();
    }
}
