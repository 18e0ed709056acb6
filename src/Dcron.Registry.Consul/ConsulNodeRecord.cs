using System.Text;
using System.Text.Json;
using DistributedCron.Registry.Consul.Client;

namespace DistributedCron.Registry.Consul;

/// <summary>
/// The value of a node key: the <see cref="DistributedCron.Node"/> JSON (<see cref="RegistryJson"/>) plus two fields
/// of this registry's own, <c>"ttl_ms"</c> (the node TTL the engine asked for, before it was raised to Consul's session
/// minimum) and <c>"beat"</c> (a counter every heartbeat increments, so each heartbeat changes the key's ModifyIndex).
/// Readers of the plain Node document ignore both.
/// </summary>
/// <param name="Node">The node.</param>
/// <param name="Ttl">The requested node TTL; null for a record written without one (no heartbeat-silence rule applies).</param>
/// <param name="Beat">The heartbeat counter.</param>
internal sealed record ConsulNodeRecord(Node Node, TimeSpan? Ttl, long Beat)
{
    private const string TtlField = "ttl_ms";
    private const string BeatField = "beat";

    /// <summary>The UTF-8 JSON stored in the node's key.</summary>
    public byte[] Encode()
    {
        var doc = JsonSerializer.SerializeToNode(Node, RegistryJson.Options)!.AsObject();
        if (Ttl is { } ttl)
        {
            doc[TtlField] = (long)Math.Ceiling(ttl.TotalMilliseconds);
        }

        doc[BeatField] = Beat;
        return Encoding.UTF8.GetBytes(doc.ToJsonString());
    }

    /// <summary>Decodes a node key's value.</summary>
    /// <exception cref="RegistryException">The value is not a node document (the message names the key).</exception>
    public static ConsulNodeRecord Decode(KvEntry entry)
    {
        var json = Encoding.UTF8.GetString(entry.Value ?? []);
        Node node;
        try
        {
            node = RegistryJson.Deserialize<Node>(json);
        }
        catch (RegistryException ex)
        {
            throw new RegistryException($"The value of Consul key '{entry.Key}' is not a node record: {ex.Message}", ex);
        }

        TimeSpan? ttl = null;
        long beat = 0;
        using (var doc = JsonDocument.Parse(json))
        {
            if (doc.RootElement.TryGetProperty(TtlField, out var t))
            {
                if (t.ValueKind != JsonValueKind.Number || !t.TryGetInt64(out var ms) || ms <= 0)
                {
                    throw new RegistryException($"The value of Consul key '{entry.Key}' has an invalid \"{TtlField}\": {t.GetRawText()} (a positive number of milliseconds).");
                }

                ttl = TimeSpan.FromMilliseconds(ms);
            }

            if (doc.RootElement.TryGetProperty(BeatField, out var b) && !(b.ValueKind == JsonValueKind.Number && b.TryGetInt64(out beat)))
            {
                throw new RegistryException($"The value of Consul key '{entry.Key}' has an invalid \"{BeatField}\": {b.GetRawText()}.");
            }
        }

        return new ConsulNodeRecord(node, ttl, beat);
    }
}
