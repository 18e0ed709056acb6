using System.Globalization;
using DistributedCron.Testing.Consul.State;
using Microsoft.AspNetCore.Http;

namespace DistributedCron.Testing.Consul.Http;

/// <summary><c>/v1/kv/</c>: GET (single, <c>?recurse</c>, <c>?keys</c> + separator, <c>?raw</c>; blocking), PUT, DELETE.</summary>
internal sealed partial class ConsulHttpApi
{
    private async Task KvGetAsync(Request r, string key)
    {
        if (!TryBlocking(r, out var index, out var wait, out var bad))
        {
            await ErrorAsync(r.Ctx, 400, bad!).ConfigureAwait(false);
            return;
        }

        if (r.Has("keys"))
        {
            // ?keys implies recurse; the list is filtered by the token's read access, silently.
            var separator = r.Param("separator") ?? r.Param("seperator");
            var (keys, at) = await state.BlockAsync(index, wait, () =>
                (state.EntriesUnder(key).Where(e => KeyAccess(r, e.Key) >= AclAccess.Read).Select(e => Cut(e.Key, key, separator)).Distinct().ToList(),
                 state.PrefixIndex(key)), r.Aborted).ConfigureAwait(false);
            ReadHeaders(r, at);
            if (keys.Count == 0 && key.Length > 0)
            {
                r.Ctx.Response.StatusCode = 404;
                return;
            }

            await JsonAsync(r.Ctx, 200, Wire.Strings(keys)).ConfigureAwait(false);
            return;
        }

        if (r.Has("recurse"))
        {
            var (entries, at) = await state.BlockAsync(index, wait, () =>
                (state.EntriesUnder(key).Where(e => KeyAccess(r, e.Key) >= AclAccess.Read).ToList(), state.PrefixIndex(key)), r.Aborted).ConfigureAwait(false);
            ReadHeaders(r, at);
            if (entries.Count == 0)
            {
                r.Ctx.Response.StatusCode = 404; // no match is a 404, like a missing key
                return;
            }

            await JsonAsync(r.Ctx, 200, Wire.Entries(entries)).ConfigureAwait(false);
            return;
        }

        if (Denied(r, key, "key:read", AclAccess.Read, KeyAccess(r, key)) is { } denied)
        {
            await ErrorAsync(r.Ctx, 403, denied).ConfigureAwait(false);
            return;
        }

        var (entry, idx) = await state.BlockAsync(index, wait, () => (state.Entry(key), state.KeyIndex(key)), r.Aborted).ConfigureAwait(false);
        ReadHeaders(r, idx); // set before the not-found check, as Consul does
        if (entry is null)
        {
            r.Ctx.Response.StatusCode = 404;
            return;
        }

        if (r.Has("raw"))
        {
            r.Ctx.Response.StatusCode = 200;
            r.Ctx.Response.ContentType = "text/plain";
            r.Ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
            await r.Ctx.Response.Body.WriteAsync(entry.Value ?? [], stopping).ConfigureAwait(false);
            return;
        }

        await JsonAsync(r.Ctx, 200, Wire.Entries([entry])).ConfigureAwait(false);
    }

    private async Task KvPutAsync(Request r, string key)
    {
        var conditions = new[] { "cas", "acquire", "release" }.Count(r.Has);
        if (conditions > 1)
        {
            await ErrorAsync(r.Ctx, 400, "Conflicting flags: " + r.Ctx.Request.QueryString.Value?.TrimStart('?')).ConfigureAwait(false);
            return;
        }

        if (Denied(r, key, "key:write", AclAccess.Write, KeyAccess(r, key)) is { } denied)
        {
            await ErrorAsync(r.Ctx, 403, denied).ConfigureAwait(false);
            return;
        }

        ulong flags = 0;
        if (r.Param("flags") is { } f && !ulong.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out flags))
        {
            await ErrorAsync(r.Ctx, 400, "Invalid flags").ConfigureAwait(false);
            return;
        }

        var max = Options.KvMaxValueSize;
        var declared = r.Ctx.Request.ContentLength;
        var body = declared > max ? [] : await ReadBodyAsync(r, max).ConfigureAwait(false);
        if (declared > max || body.Length > max)
        {
            await ErrorAsync(r.Ctx, 413, $"Request body({declared ?? body.Length} bytes) too large, max size: {max} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size.").ConfigureAwait(false);
            return;
        }

        if (r.Param("cas") is { } casText)
        {
            if (!ulong.TryParse(casText, NumberStyles.None, CultureInfo.InvariantCulture, out var cas))
            {
                await ErrorAsync(r.Ctx, 400, "Invalid CAS index").ConfigureAwait(false);
                return;
            }

            await BoolAsync(r.Ctx, state.Write(b => state.KvCas(b, key, body, flags, cas))).ConfigureAwait(false);
            return;
        }

        if (r.Has("acquire") || r.Has("release"))
        {
            var acquire = r.Has("acquire");
            var session = acquire ? r.Param("acquire") : r.Param("release");
            var result = state.Write(b => acquire ? state.KvLock(b, key, body, flags, session) : state.KvUnlock(b, key, body, flags, session));
            if (result.Error is { } error)
            {
                await ErrorAsync(r.Ctx, 500, error).ConfigureAwait(false);
                return;
            }

            await BoolAsync(r.Ctx, result.Succeeded).ConfigureAwait(false);
            return;
        }

        await BoolAsync(r.Ctx, state.Write(b => state.KvSet(b, key, body, flags))).ConfigureAwait(false);
    }

    private async Task KvDeleteAsync(Request r, string key)
    {
        var recurse = r.Has("recurse");
        if (recurse && r.Has("cas"))
        {
            await ErrorAsync(r.Ctx, 400, "Conflicting flags: " + r.Ctx.Request.QueryString.Value?.TrimStart('?')).ConfigureAwait(false);
            return;
        }

        if (Denied(r, key, "key:write", AclAccess.Write, KeyAccess(r, key)) is { } denied)
        {
            await ErrorAsync(r.Ctx, 403, denied).ConfigureAwait(false);
            return;
        }

        if (r.Param("cas") is { } casText)
        {
            if (!ulong.TryParse(casText, NumberStyles.None, CultureInfo.InvariantCulture, out var cas))
            {
                await ErrorAsync(r.Ctx, 400, "Invalid CAS index").ConfigureAwait(false);
                return;
            }

            await BoolAsync(r.Ctx, state.Write(b => state.KvDeleteCas(b, key, cas))).ConfigureAwait(false);
            return;
        }

        await BoolAsync(r.Ctx, state.Write(b => recurse ? state.KvDeleteTree(b, key) : state.KvDelete(b, key))).ConfigureAwait(false);
    }

    /// <summary><c>?keys&amp;separator=/</c>: a key cut just after the first separator that follows the prefix.</summary>
    private static string Cut(string key, string prefix, string? separator)
    {
        if (string.IsNullOrEmpty(separator))
        {
            return key;
        }

        var at = key.IndexOf(separator, prefix.Length, StringComparison.Ordinal);
        return at < 0 ? key : key[..(at + separator.Length)];
    }
}
