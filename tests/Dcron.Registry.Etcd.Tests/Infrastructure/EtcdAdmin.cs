using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistributedCron.Registry.Etcd.Tests.Infrastructure;

/// <summary>
/// Administration of a test etcd through the gateway with plain HTTP (independent of the client under test): users,
/// roles and auth, compaction, member status, key counts.
/// </summary>
public sealed class EtcdAdmin : IDisposable
{
    private readonly HttpClient _http;
    private string? _token;
    private (string User, string Password)? _login;

    /// <summary>An admin client of <paramref name="endpoint"/> (plain http).</summary>
    public EtcdAdmin(string endpoint, HttpMessageHandler? handler = null)
    {
        Endpoint = endpoint.TrimEnd('/');
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>The endpoint.</summary>
    public string Endpoint { get; }

    /// <summary>Base64 of a UTF-8 string, as the gateway wants keys.</summary>
    public static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    /// <summary>POSTs a JSON body to a gateway path and returns the answer; throws with etcd's message unless it succeeded.</summary>
    public async Task<JsonNode> PostAsync(string path, object body, CancellationToken ct = default)
    {
        var (status, json) = await TryPostAsync(path, body, ct).ConfigureAwait(false);
        if (status == 401 && _login is { } login)
        {
            await LoginAsync(login.User, login.Password, ct).ConfigureAwait(false); // the token expired
            (status, json) = await TryPostAsync(path, body, ct).ConfigureAwait(false);
        }

        if (status >= 300)
        {
            throw new InvalidOperationException($"etcd {path} failed ({status}): {json.ToJsonString()}");
        }

        return json;
    }

    /// <summary>POSTs and returns status and body without judging them.</summary>
    public async Task<(int Status, JsonNode Body)> TryPostAsync(string path, object body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint + path)
        {
            Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        if (_token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", _token);
        }

        using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        return ((int)response.StatusCode, JsonNode.Parse(text.Split('\n')[0]) ?? new JsonObject());
    }

    /// <summary>Authenticates as <paramref name="user"/>; later calls carry the token.</summary>
    public async Task LoginAsync(string user, string password, CancellationToken ct = default)
    {
        _token = null;
        _login = null;
        var r = await PostAsync("/v3/auth/authenticate", new { name = user, password }, ct).ConfigureAwait(false);
        _login = (user, password);
        _token = (string?)r["token"] ?? throw new InvalidOperationException("no token");
    }

    /// <summary>
    /// Creates root (password <paramref name="rootPassword"/>), a role with read-write on <paramref name="prefix"/> and
    /// a user holding it, then enables auth and logs in as root.
    /// </summary>
    public async Task EnableAuthAsync(string rootPassword, string user, string password, string role, string prefix, CancellationToken ct = default)
    {
        await PostAsync("/v3/auth/user/add", new { name = "root", password = rootPassword }, ct).ConfigureAwait(false);
        await PostAsync("/v3/auth/role/add", new { name = "root" }, ct).ConfigureAwait(false);
        await PostAsync("/v3/auth/user/grant", new { user = "root", role = "root" }, ct).ConfigureAwait(false);
        await AddUserWithPrefixAsync(user, password, role, prefix, ct).ConfigureAwait(false);
        await PostAsync("/v3/auth/enable", new { }, ct).ConfigureAwait(false);
        await LoginAsync("root", rootPassword, ct).ConfigureAwait(false);
    }

    /// <summary>Adds a user and a role with read-write on <paramref name="prefix"/> (null: a user without any role).</summary>
    public async Task AddUserWithPrefixAsync(string user, string password, string role, string? prefix, CancellationToken ct = default)
    {
        await PostAsync("/v3/auth/user/add", new { name = user, password }, ct).ConfigureAwait(false);
        if (prefix is null)
        {
            return;
        }

        await PostAsync("/v3/auth/role/add", new { name = role }, ct).ConfigureAwait(false);
        var end = Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        await PostAsync("/v3/auth/role/grant", new
        {
            name = role,
            perm = new { key = B64(prefix), range_end = Convert.ToBase64String(end), permType = "READWRITE" },
        }, ct).ConfigureAwait(false);
        await PostAsync("/v3/auth/user/grant", new { user, role }, ct).ConfigureAwait(false);
    }

    /// <summary>How many keys start with <paramref name="prefix"/>.</summary>
    public async Task<long> CountAsync(string prefix, CancellationToken ct = default)
    {
        var end = Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        var r = await PostAsync("/v3/kv/range", new { key = B64(prefix), range_end = Convert.ToBase64String(end), count_only = true }, ct).ConfigureAwait(false);
        return r["count"] is { } c ? long.Parse(c.ToString()) : 0;
    }

    /// <summary>The store's current revision.</summary>
    public async Task<long> RevisionAsync(CancellationToken ct = default)
    {
        var r = await PostAsync("/v3/kv/range", new { key = B64("/") }, ct).ConfigureAwait(false);
        return long.Parse(r["header"]!["revision"]!.ToString());
    }

    /// <summary>Compacts the history up to <paramref name="revision"/>.</summary>
    public Task CompactAsync(long revision, CancellationToken ct = default) =>
        PostAsync("/v3/kv/compaction", new { revision = revision.ToString(), physical = true }, ct);

    /// <summary>Writes a key (plain put).</summary>
    public Task PutAsync(string key, string value, CancellationToken ct = default) =>
        PostAsync("/v3/kv/put", new { key = B64(key), value = B64(value) }, ct);

    /// <summary>The member id of this endpoint and the id of the leader it knows.</summary>
    public async Task<(string Member, string Leader)> StatusAsync(CancellationToken ct = default)
    {
        var r = await PostAsync("/v3/maintenance/status", new { }, ct).ConfigureAwait(false);
        return (r["header"]!["member_id"]!.ToString(), r["leader"]?.ToString() ?? "");
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
