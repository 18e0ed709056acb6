using System.Text.Encodings.Web;
using System.Text.Json;
using DistributedCron.Testing.Consul.State;

namespace DistributedCron.Testing.Consul.Http;

/// <summary>Consul's JSON shapes: <c>DirEntry</c> (base64 Value, null when empty; Session left out when empty), sessions, txn answers.</summary>
internal static class Wire
{
    public static byte[] Entries(IEnumerable<KvRecord> entries) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var e in entries)
        {
            Entry(w, e);
        }

        w.WriteEndArray();
    });

    public static byte[] Strings(IEnumerable<string> values) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    });

    public static byte[] Sessions(IEnumerable<SessionRecord> sessions) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var s in sessions)
        {
            w.WriteStartObject();
            w.WriteString("ID", s.ID);
            w.WriteString("Name", s.Name);
            w.WriteString("Node", s.Node);
            w.WriteNumber("LockDelay", GoDuration.Nanoseconds(s.LockDelay));
            w.WriteString("Behavior", s.Behavior);
            w.WriteString("TTL", s.TTL);
            w.WriteStartArray("NodeChecks");
            foreach (var c in s.NodeChecks)
            {
                w.WriteStringValue(c);
            }

            w.WriteEndArray();
            w.WriteNull("ServiceChecks");
            w.WriteNumber("CreateIndex", s.CreateIndex);
            w.WriteNumber("ModifyIndex", s.ModifyIndex);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static byte[] SessionId(string id) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("ID", id);
        w.WriteEndObject();
    });

    public static byte[] Txn(TxnOutcome o) => Write(w =>
    {
        w.WriteStartObject();
        if (o.Results is { } results)
        {
            w.WriteStartArray("Results");
            foreach (var e in results)
            {
                w.WriteStartObject();
                w.WritePropertyName("KV");
                Entry(w, e);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("Results");
        }

        if (o.Errors is { } errors)
        {
            w.WriteStartArray("Errors");
            foreach (var e in errors)
            {
                w.WriteStartObject();
                w.WriteNumber("OpIndex", e.OpIndex);
                w.WriteString("What", e.What);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("Errors");
        }

        w.WriteEndObject();
    });

    private static void Entry(Utf8JsonWriter w, KvRecord e)
    {
        w.WriteStartObject();
        w.WriteNumber("LockIndex", e.LockIndex);
        w.WriteString("Key", e.Key);
        w.WriteNumber("Flags", e.Flags);
        if (e.Value is { Length: > 0 } v)
        {
            w.WriteBase64String("Value", v);
        }
        else
        {
            w.WriteNull("Value");
        }

        if (!string.IsNullOrEmpty(e.Session))
        {
            w.WriteString("Session", e.Session);
        }

        w.WriteNumber("CreateIndex", e.CreateIndex);
        w.WriteNumber("ModifyIndex", e.ModifyIndex);
        w.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }

        return ms.ToArray();
    }
}
