using System.Globalization;
using System.Text;
using DistributedCron.Testing.Consul.State;
using Microsoft.AspNetCore.Http;

namespace DistributedCron.Testing.Consul.Http;

/// <summary>
/// The HTTP front of the emulator: routing, the rules every endpoint shares (<c>?dc</c>, <c>?stale</c> with
/// <c>?consistent</c>, the ACL token, read headers, plain-text error bodies, fault injection), and the blocking
/// parameters. The endpoints themselves are in the partial files beside this one.
/// </summary>
internal sealed partial class ConsulHttpApi(ConsulState state, CancellationToken stopping)
{
    private ConsulEmulatorOptions Options => state.Options;

    public async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        state.CountRequest(path);
        ctx.Response.Headers["X-Consul-Default-ACL-Policy"] = Options.Acl is null ? "allow" : "deny";
        var fault = state.Faults.TakeFailure(path, ctx.Request.Method);
        if (fault is { Kind: EmulatorFaults.FaultKind.Drop })
        {
            ctx.Abort();
            return;
        }

        if (fault is { Kind: EmulatorFaults.FaultKind.Answer })
        {
            await ErrorAsync(ctx, fault.Status, fault.Body).ConfigureAwait(false);
            return;
        }

        if (fault is { Kind: EmulatorFaults.FaultKind.LoseAnswer })
        {
            ctx.Response.Body = new MemoryStream(); // carried out, but the answer never leaves
            await ServeAsync(ctx, path).ConfigureAwait(false);
            ctx.Abort();
            return;
        }

        await ServeAsync(ctx, path).ConfigureAwait(false);
    }

    private async Task ServeAsync(HttpContext ctx, string path)
    {
        var q = ctx.Request.Query;
        if (q.TryGetValue("dc", out var dc) && dc.ToString() is { Length: > 0 } dcName && dcName != Options.Datacenter)
        {
            await ErrorAsync(ctx, 500, "No path to datacenter").ConfigureAwait(false);
            return;
        }

        if (q.ContainsKey("stale") && q.ContainsKey("consistent"))
        {
            await ErrorAsync(ctx, 400, "Cannot specify ?stale with ?consistent, conflicting semantics.").ConfigureAwait(false);
            return;
        }

        var (policy, aclError) = ResolveToken(ctx);
        if (aclError is not null)
        {
            await ErrorAsync(ctx, 403, aclError).ConfigureAwait(false);
            return;
        }

        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, stopping);
        var req = new Request(ctx, path, policy, aborted.Token);
        try
        {
            await RouteAsync(req).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            ctx.Abort(); // the client went away, or the emulator is stopping: no answer, as when a server dies
        }
    }

    private Task RouteAsync(Request r)
    {
        var p = r.Path;
        if (p.StartsWith("/v1/kv/", StringComparison.Ordinal) || p == "/v1/kv")
        {
            var key = p.Length > 7 ? p[7..] : "";
            return r.Method switch
            {
                "GET" => KvGetAsync(r, key),
                "PUT" => KvPutAsync(r, key),
                "DELETE" => KvDeleteAsync(r, key),
                _ => MethodNotAllowedAsync(r, "GET, PUT, DELETE"),
            };
        }

        if (p == "/v1/txn")
        {
            return r.Method == "PUT" ? TxnAsync(r) : MethodNotAllowedAsync(r, "PUT");
        }

        if (p.StartsWith("/v1/session/", StringComparison.Ordinal))
        {
            var rest = p[12..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var verb = slash < 0 ? rest : rest[..slash];
            var arg = slash < 0 ? "" : rest[(slash + 1)..];
            return verb switch
            {
                "create" => r.Method == "PUT" ? SessionCreateAsync(r) : MethodNotAllowedAsync(r, "PUT"),
                "renew" => r.Method == "PUT" ? SessionRenewAsync(r, arg) : MethodNotAllowedAsync(r, "PUT"),
                "destroy" => r.Method == "PUT" ? SessionDestroyAsync(r, arg) : MethodNotAllowedAsync(r, "PUT"),
                "info" => r.Method == "GET" ? SessionListAsync(r, s => s.ID == arg) : MethodNotAllowedAsync(r, "GET"),
                "node" => r.Method == "GET" ? SessionListAsync(r, s => s.Node == arg) : MethodNotAllowedAsync(r, "GET"),
                "list" => r.Method == "GET" ? SessionListAsync(r, _ => true) : MethodNotAllowedAsync(r, "GET"),
                _ => ErrorAsync(r.Ctx, 404, "404 page not found"),
            };
        }

        if (p == "/v1/status/leader")
        {
            return JsonAsync(r.Ctx, 200, Encoding.UTF8.GetBytes("\"127.0.0.1:8300\""));
        }

        return ErrorAsync(r.Ctx, 404, "404 page not found");
    }

    /// <summary>The token from <c>?token</c>, then <c>X-Consul-Token</c>, then <c>Authorization: Bearer</c> (Consul's order).</summary>
    private (AclPolicy? Policy, string? Error) ResolveToken(HttpContext ctx)
    {
        if (Options.Acl is not { } acl)
        {
            return (null, null); // ACLs disabled: everything is allowed
        }

        string? token = null;
        if (ctx.Request.Query.TryGetValue("token", out var qt) && qt.ToString().Length > 0)
        {
            token = qt.ToString();
        }
        else if (ctx.Request.Headers.TryGetValue("X-Consul-Token", out var ht) && ht.ToString().Length > 0)
        {
            token = ht.ToString();
        }
        else if (ctx.Request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = auth[7..].Trim();
        }

        if (token is null)
        {
            return (acl.Anonymous, null);
        }

        return acl.Tokens.TryGetValue(token, out var policy) ? (policy, null) : (null, "ACL not found");
    }

    /// <summary>Null when allowed, else the 403 text Consul gives (newer servers' wording).</summary>
    private static string? Denied(Request r, string resource, string permission, AclAccess needed, AclAccess granted)
    {
        if (r.Policy is null || granted >= needed)
        {
            return null;
        }

        return r.Policy == AclPolicy.DenyAll
            ? $"Permission denied: anonymous token lacks permission '{permission}' on \"{resource}\". The anonymous token is used implicitly when a request does not specify a token."
            : $"Permission denied: token with AccessorID '{r.Policy.AccessorId}' lacks permission '{permission}' on \"{resource}\"";
    }

    private static AclAccess KeyAccess(Request r, string key) => r.Policy?.KeyAccess(key) ?? AclAccess.Write;

    private static AclAccess SessionAccess(Request r) => r.Policy?.SessionAccess ?? AclAccess.Write;

    /// <summary>Parses <c>?index</c> and <c>?wait</c>; the wait is capped at max_query_time and gets Consul's jitter (≤ wait/16).</summary>
    private bool TryBlocking(Request r, out ulong index, out TimeSpan wait, out string? error)
    {
        index = 0;
        wait = Options.DefaultQueryTime;
        error = null;
        var q = r.Ctx.Request.Query;
        if (q.TryGetValue("index", out var iv) && !ulong.TryParse(iv.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out index))
        {
            error = "Invalid index";
            return false;
        }

        if (q.TryGetValue("wait", out var wv))
        {
            if (!GoDuration.TryParse(wv.ToString(), out wait) || wait < TimeSpan.Zero)
            {
                error = "Invalid wait time";
                return false;
            }
        }

        if (wait > Options.MaxQueryTime || wait == TimeSpan.Zero)
        {
            wait = wait == TimeSpan.Zero ? Options.DefaultQueryTime : Options.MaxQueryTime;
        }

        if (Options.QueryJitter)
        {
            wait += TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * (wait.Ticks / 16)));
        }

        return true;
    }

    private void ReadHeaders(Request r, ulong index)
    {
        var h = r.Ctx.Response.Headers;
        var forced = state.Faults.TakeForcedIndex(r.Path);
        h["X-Consul-Index"] = (forced ?? Math.Max(index, 1)).ToString(CultureInfo.InvariantCulture);
        h["X-Consul-KnownLeader"] = state.Faults.KnownLeader ? "true" : "false";
        h["X-Consul-LastContact"] = "0";
        var q = r.Ctx.Request.Query;
        h["X-Consul-Effective-Consistency"] = q.ContainsKey("consistent") ? "consistent" : q.ContainsKey("stale") ? "stale" : "leader";
    }

    private Task ErrorAsync(HttpContext ctx, int status, string text)
    {
        if (state.Faults.RpcErrorPrefix && status is 403 or 500)
        {
            text = "rpc error making call: " + text;
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        return ctx.Response.WriteAsync(text, stopping);
    }

    private static Task MethodNotAllowedAsync(Request r, string allow)
    {
        r.Ctx.Response.StatusCode = 405;
        r.Ctx.Response.Headers.Allow = allow;
        return Task.CompletedTask;
    }

    private Task JsonAsync(HttpContext ctx, int status, byte[] json)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.Body.WriteAsync(json, stopping).AsTask();
    }

    private Task BoolAsync(HttpContext ctx, bool value) => JsonAsync(ctx, 200, value ? "true"u8.ToArray() : "false"u8.ToArray());

    private static async Task<byte[]> ReadBodyAsync(Request r, int limit)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await r.Ctx.Request.Body.ReadAsync(buffer, r.Aborted).ConfigureAwait(false)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > limit + 1L)
            {
                break; // too large: the caller answers 413
            }
        }

        return ms.ToArray();
    }

    /// <summary>One request: its context, path, resolved ACL policy (null: ACLs disabled) and abort token.</summary>
    private sealed record Request(HttpContext Ctx, string Path, AclPolicy? Policy, CancellationToken Aborted)
    {
        public string Method => Ctx.Request.Method;

        public bool Has(string flag) => Ctx.Request.Query.ContainsKey(flag);

        public string? Param(string name) => Ctx.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;
    }
}
