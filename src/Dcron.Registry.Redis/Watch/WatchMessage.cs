using System.Text.Json;

namespace DistributedCron.Registry.Redis.Watch;

/// <summary>One change notification as the Lua scripts publish it: <c>{"r":rev,"k":kind,"id":id,"d":json}</c>.</summary>
internal readonly record struct WatchMessage(long Revision, string Kind, string Id, string? Data)
{
    /// <summary>Parses a message; throws <see cref="FormatException"/> for anything else.</summary>
    public static WatchMessage Parse(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var rev = root.GetProperty("r");
            var revision = rev.ValueKind == JsonValueKind.Number && rev.TryGetInt64(out var l) ? l : checked((long)rev.GetDouble());
            var kind = root.GetProperty("k").GetString() ?? throw new FormatException("message without kind");
            var id = root.TryGetProperty("id", out var idEl) && idEl.ValueKind == JsonValueKind.String ? idEl.GetString()! : "";
            var data = root.TryGetProperty("d", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            return new WatchMessage(revision, kind, id, data);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or OverflowException)
        {
            throw new FormatException($"Not a registry change message: {(text.Length > 200 ? text[..200] + "…" : text)}", ex);
        }
    }
}
