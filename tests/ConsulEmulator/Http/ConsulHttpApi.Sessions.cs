using System.Text.Json;
using DistributedCron.Testing.Consul.State;

namespace DistributedCron.Testing.Consul.Http;

/// <summary><c>/v1/session/</c>: create, renew, destroy (PUT); info, node, list (GET, blocking on the sessions index).</summary>
internal sealed partial class ConsulHttpApi
{
    private async Task SessionCreateAsync(Request r)
    {
        if (Denied(r, Options.NodeName, "session:write", AclAccess.Write, SessionAccess(r)) is { } denied)
        {
            await ErrorAsync(r.Ctx, 403, denied).ConfigureAwait(false);
            return;
        }

        var body = await ReadBodyAsync(r, 64 * 1024).ConfigureAwait(false);
        SessionSpec spec;
        try
        {
            spec = ParseSession(body);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            await ErrorAsync(r.Ctx, 400, "Request decode failed: " + ex.Message).ConfigureAwait(false);
            return;
        }

        var (session, error) = state.CreateSession(spec);
        if (error is not null)
        {
            await ErrorAsync(r.Ctx, 500, error).ConfigureAwait(false);
            return;
        }

        await JsonAsync(r.Ctx, 200, Wire.SessionId(session!.ID)).ConfigureAwait(false);
    }

    private async Task SessionRenewAsync(Request r, string id)
    {
        if (Denied(r, Options.NodeName, "session:write", AclAccess.Write, SessionAccess(r)) is { } denied)
        {
            await ErrorAsync(r.Ctx, 403, denied).ConfigureAwait(false);
            return;
        }

        if (state.RenewSession(id) is not { } s)
        {
            await ErrorAsync(r.Ctx, 404, $"Session id '{id}' not found").ConfigureAwait(false);
            return;
        }

        await JsonAsync(r.Ctx, 200, Wire.Sessions([s])).ConfigureAwait(false);
    }

    private async Task SessionDestroyAsync(Request r, string id)
    {
        if (Denied(r, Options.NodeName, "session:write", AclAccess.Write, SessionAccess(r)) is { } denied)
        {
            await ErrorAsync(r.Ctx, 403, denied).ConfigureAwait(false);
            return;
        }

        state.DestroySession(id);
        await BoolAsync(r.Ctx, true).ConfigureAwait(false);
    }

    private async Task SessionListAsync(Request r, Func<SessionRecord, bool> which)
    {
        if (!TryBlocking(r, out var index, out var wait, out var bad))
        {
            await ErrorAsync(r.Ctx, 400, bad!).ConfigureAwait(false);
            return;
        }

        var readable = SessionAccess(r) >= AclAccess.Read; // without session:read the list is filtered to nothing
        var (sessions, at) = await state.BlockAsync(index, wait,
            () => (readable ? state.Sessions().Where(which).ToList() : [], state.SessionsIndex()), r.Aborted).ConfigureAwait(false);
        ReadHeaders(r, at);
        await JsonAsync(r.Ctx, 200, Wire.Sessions(sessions)).ConfigureAwait(false);
    }

    /// <summary>
    /// The create body (optional; Go's decoder matches names case-insensitively). LockDelay is a duration string or a
    /// number (below 1000: seconds, else nanoseconds). <c>Checks</c> is the pre-1.7 name of <c>NodeChecks</c>; an
    /// explicit empty list means "no health checks".
    /// </summary>
    private static SessionSpec ParseSession(byte[] body)
    {
        if (body.Length == 0)
        {
            return new SessionSpec(null, null, TimeSpan.FromSeconds(15), null, null, null, 0);
        }

        using var doc = JsonDocument.Parse(body);
        string? name = null, node = null, behavior = null, ttl = null;
        var lockDelay = TimeSpan.FromSeconds(15);
        List<string>? checks = null, nodeChecks = null;
        var serviceChecks = 0;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            switch (p.Name.ToLowerInvariant())
            {
                case "name":
                    name = p.Value.GetString();
                    break;
                case "node":
                    node = p.Value.GetString();
                    break;
                case "behavior":
                    behavior = p.Value.GetString();
                    break;
                case "ttl":
                    ttl = p.Value.GetString();
                    break;
                case "lockdelay":
                    lockDelay = p.Value.ValueKind == JsonValueKind.Number
                        ? (p.Value.GetInt64() is var n && n < 1000 ? TimeSpan.FromSeconds(n) : TimeSpan.FromTicks(n / 100))
                        : GoDuration.TryParse(p.Value.GetString(), out var d) ? d : throw new FormatException($"invalid LockDelay '{p.Value}'");
                    break;
                case "checks":
                    checks = Strings(p.Value);
                    break;
                case "nodechecks":
                    nodeChecks = Strings(p.Value);
                    break;
                case "servicechecks":
                    serviceChecks = p.Value.ValueKind == JsonValueKind.Array ? p.Value.GetArrayLength() : 0;
                    break;
                default:
                    break; // Namespace, Partition…: not modeled, ignored
            }
        }

        // The union of both names, as Consul's fixupEmptySessionChecks: absent in both means the default serfHealth.
        var all = checks is null && nodeChecks is null ? null : (checks ?? []).Concat(nodeChecks ?? []).Distinct().ToList();
        return new SessionSpec(name, node, lockDelay, behavior, ttl, all, serviceChecks);

        static List<string>? Strings(JsonElement e) =>
            e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(x => x.GetString() ?? "").ToList();
    }
}
