using System.Text.Json;
using DistributedCron.Testing.Consul.State;

namespace DistributedCron.Testing.Consul.Http;

/// <summary><c>PUT /v1/txn</c>: KV operations only; limits, parse errors and per-operation ACL denials as Consul reports them.</summary>
internal sealed partial class ConsulHttpApi
{
    private static readonly HashSet<string> ReadVerbs = new(StringComparer.Ordinal) { "get", "get-tree", "check-index", "check-session", "check-not-exists" };

    private async Task TxnAsync(Request r)
    {
        var limit = Math.Max(512 * 1024, Options.KvMaxValueSize); // max(txn_max_req_len, kv_max_value_size)
        var body = await ReadBodyAsync(r, limit).ConfigureAwait(false);
        if (body.Length > limit)
        {
            await ErrorAsync(r.Ctx, 413, $"Request body too large, max size: {limit} bytes").ConfigureAwait(false);
            return;
        }

        List<TxnOpSpec> ops;
        try
        {
            ops = ParseTxn(body);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            await ErrorAsync(r.Ctx, 400, "Failed to parse body: " + ex.Message).ConfigureAwait(false);
            return;
        }

        if (ops.Count > Options.TxnMaxOps)
        {
            await ErrorAsync(r.Ctx, 413, $"Transaction contains too many operations ({ops.Count} > {Options.TxnMaxOps})").ConfigureAwait(false);
            return;
        }

        if (ops.FirstOrDefault(o => o.Value is { } v && v.Length > Options.KvMaxValueSize) is { } big)
        {
            await ErrorAsync(r.Ctx, 413, $"Value for key \"{big.Key}\" is too large ({big.Value!.Length} > {Options.KvMaxValueSize} bytes)").ConfigureAwait(false);
            return;
        }

        var outcome = state.Transact(ops, op =>
        {
            var read = ReadVerbs.Contains(op.Verb);
            return Denied(r, op.Key, read ? "key:read" : "key:write", read ? AclAccess.Read : AclAccess.Write, KeyAccess(r, op.Key));
        });
        if (ops.All(o => ReadVerbs.Contains(o.Verb)))
        {
            // The read-only fast path carries the read headers, but no X-Consul-Index.
            r.Ctx.Response.Headers["X-Consul-KnownLeader"] = state.Faults.KnownLeader ? "true" : "false";
            r.Ctx.Response.Headers["X-Consul-LastContact"] = "0";
        }

        await JsonAsync(r.Ctx, outcome.Errors is null ? 200 : 409, Wire.Txn(outcome)).ConfigureAwait(false);
    }

    /// <summary>A JSON array of <c>{"KV": {...}}</c>; unknown fields are refused (Consul decodes with DisallowUnknownFields).</summary>
    private static List<TxnOpSpec> ParseTxn(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("json: cannot unmarshal object into Go value of type structs.TxnOps");
        }

        var ops = new List<TxnOpSpec>();
        foreach (var element in doc.RootElement.EnumerateArray())
        {
            JsonElement? kv = null;
            foreach (var p in element.EnumerateObject())
            {
                switch (p.Name.ToLowerInvariant())
                {
                    case "kv":
                        kv = p.Value;
                        break;
                    case "node" or "service" or "check":
                        throw new FormatException($"{p.Name} operations are not modeled by the emulator");
                    default:
                        throw new FormatException($"json: unknown field \"{p.Name}\"");
                }
            }

            if (kv is not { } o)
            {
                throw new FormatException("operation without KV");
            }

            string? verb = null, key = null, session = null;
            byte[]? value = null;
            ulong flags = 0, index = 0;
            foreach (var p in o.EnumerateObject())
            {
                switch (p.Name.ToLowerInvariant())
                {
                    case "verb":
                        verb = p.Value.GetString();
                        break;
                    case "key":
                        key = p.Value.GetString();
                        break;
                    case "value":
                        value = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetBytesFromBase64();
                        break;
                    case "flags":
                        flags = p.Value.GetUInt64();
                        break;
                    case "index":
                        index = p.Value.GetUInt64();
                        break;
                    case "session":
                        session = p.Value.GetString();
                        break;
                    default:
                        throw new FormatException($"json: unknown field \"{p.Name}\"");
                }
            }

            ops.Add(new TxnOpSpec(verb ?? "", key ?? "", value, flags, index, session));
        }

        return ops;
    }
}
