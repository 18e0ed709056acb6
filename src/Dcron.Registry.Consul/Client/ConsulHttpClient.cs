using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.Consul.Client;

/// <summary>
/// Consul's HTTP API over one <see cref="HttpClient"/>: builds the requests (token header, <c>?dc=</c>), enforces
/// the per-request timeout, and maps every failure to the registry's exception types (see <see cref="IConsulClient"/>).
/// </summary>
internal sealed partial class ConsulHttpClient : IConsulClient
{
    private static readonly byte[] True = "true"u8.ToArray();
    private readonly HttpClient _http;
    private readonly ConsulRegistryOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();

    public ConsulHttpClient(ConsulRegistryOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _http = new HttpClient(ConsulHttpHandlerFactory.Create(options), disposeHandler: true)
        {
            BaseAddress = new Uri(options.BaseAddress + "/"),
            Timeout = Timeout.InfiniteTimeSpan, // every request has its own deadline
        };
    }

    public string Address => _options.BaseAddress;

    public async Task<KvEntry?> GetAsync(string key, CancellationToken ct)
    {
        var a = await SendAsync(HttpMethod.Get, KvPath(key), null, null, _options.RequestTimeout, $"GET kv {key}", ct).ConfigureAwait(false);
        return a.Status switch
        {
            HttpStatusCode.OK => Parse(a, ConsulJsonContext.Default.ListKvEntry, $"GET kv {key}").FirstOrDefault(),
            HttpStatusCode.NotFound => null,
            _ => throw Error(a, $"GET kv {key}"),
        };
    }

    public async Task<KvList> ListAsync(string prefix, ulong index, TimeSpan? wait, CancellationToken ct)
    {
        var query = "recurse";
        var timeout = _options.RequestTimeout;
        if (index > 0 && wait is { } w)
        {
            query += "&index=" + index.ToString(CultureInfo.InvariantCulture) + "&wait=" + ((long)w.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
            timeout += w + (w / 16); // Consul adds up to wait/16 of jitter
        }

        var what = $"GET kv {prefix}?recurse";
        var a = await SendAsync(HttpMethod.Get, KvPath(prefix), query, null, timeout, what, ct).ConfigureAwait(false);
        return a.Status switch
        {
            HttpStatusCode.OK => new KvList(Parse(a, ConsulJsonContext.Default.ListKvEntry, what), a.Index),
            HttpStatusCode.NotFound => new KvList([], a.Index),
            _ => throw Error(a, what),
        };
    }

    public async Task<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken ct)
    {
        var what = $"GET kv {prefix}?keys";
        var a = await SendAsync(HttpMethod.Get, KvPath(prefix), "keys", null, _options.RequestTimeout, what, ct).ConfigureAwait(false);
        return a.Status switch
        {
            HttpStatusCode.OK => Parse(a, ConsulJsonContext.Default.ListString, what),
            HttpStatusCode.NotFound => [],
            _ => throw Error(a, what),
        };
    }

    public async Task<bool> PutAsync(string key, byte[] value, KvWrite condition, CancellationToken ct)
    {
        string? query = null;
        if (condition.Cas is { } cas)
        {
            query = "cas=" + cas.ToString(CultureInfo.InvariantCulture);
        }
        else if (condition.Acquire is { } acquire)
        {
            query = "acquire=" + Uri.EscapeDataString(acquire);
        }
        else if (condition.Release is { } release)
        {
            query = "release=" + Uri.EscapeDataString(release);
        }

        var what = query is null ? $"PUT kv {key}" : $"PUT kv {key}?{query}";
        var a = await SendAsync(HttpMethod.Put, KvPath(key), query, new ByteArrayContent(value), _options.RequestTimeout, what, ct).ConfigureAwait(false);
        return a.Status == HttpStatusCode.OK ? IsTrue(a, what) : throw Error(a, what);
    }

    public async Task<bool> DeleteAsync(string key, ulong? cas, CancellationToken ct)
    {
        var query = cas is { } c ? "cas=" + c.ToString(CultureInfo.InvariantCulture) : null;
        var what = $"DELETE kv {key}";
        var a = await SendAsync(HttpMethod.Delete, KvPath(key), query, null, _options.RequestTimeout, what, ct).ConfigureAwait(false);
        return a.Status == HttpStatusCode.OK ? IsTrue(a, what) : throw Error(a, what);
    }

    public async Task<string> CreateSessionAsync(SessionCreateRequest request, CancellationToken ct)
    {
        var what = $"create session '{request.Name}'";
        var body = JsonSerializer.SerializeToUtf8Bytes(request, ConsulJsonContext.Default.SessionCreateRequest);
        var a = await SendAsync(HttpMethod.Put, "v1/session/create", null, new ByteArrayContent(body), _options.RequestTimeout, what, ct).ConfigureAwait(false);
        if (a.Status != HttpStatusCode.OK)
        {
            throw Error(a, what);
        }

        var id = Parse(a, ConsulJsonContext.Default.SessionCreateResponse, what).ID;
        return string.IsNullOrEmpty(id) ? throw Unreadable(a, what, null) : id;
    }

    public async Task<SessionInfo?> RenewSessionAsync(string id, CancellationToken ct)
    {
        var what = $"renew session {id}";
        var a = await SendAsync(HttpMethod.Put, "v1/session/renew/" + Uri.EscapeDataString(id), null, null, _options.RequestTimeout, what, ct).ConfigureAwait(false);
        return a.Status switch
        {
            HttpStatusCode.OK => Parse(a, ConsulJsonContext.Default.ListSessionInfo, what).FirstOrDefault(),
            HttpStatusCode.NotFound => null,
            _ => throw Error(a, what),
        };
    }

    public async Task DestroySessionAsync(string id, CancellationToken ct)
    {
        var what = $"destroy session {id}";
        var a = await SendAsync(HttpMethod.Put, "v1/session/destroy/" + Uri.EscapeDataString(id), null, null, _options.RequestTimeout, what, ct).ConfigureAwait(false);
        if (a.Status != HttpStatusCode.OK)
        {
            throw Error(a, what);
        }
    }

    public async Task<SessionInfo?> SessionInfoAsync(string id, CancellationToken ct)
    {
        var what = $"session info {id}";
        var a = await SendAsync(HttpMethod.Get, "v1/session/info/" + Uri.EscapeDataString(id), null, null, _options.RequestTimeout, what, ct).ConfigureAwait(false);
        return a.Status == HttpStatusCode.OK ? Parse(a, ConsulJsonContext.Default.ListSessionInfo, what).FirstOrDefault() : throw Error(a, what);
    }

    public async Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(CancellationToken ct)
    {
        const string what = "session list";
        var a = await SendAsync(HttpMethod.Get, "v1/session/list", null, null, _options.RequestTimeout, what, ct).ConfigureAwait(false);
        return a.Status == HttpStatusCode.OK ? Parse(a, ConsulJsonContext.Default.ListSessionInfo, what) : throw Error(a, what);
    }

    public async Task<TxnResponse> TxnAsync(IReadOnlyList<TxnKvOp> ops, CancellationToken ct)
    {
        var what = $"txn ({string.Join(", ", ops.Select(o => o.Verb + " " + o.Key))})";
        var body = JsonSerializer.SerializeToUtf8Bytes(ops.Select(o => new TxnOp { KV = o }).ToList(), ConsulJsonContext.Default.ListTxnOp);
        var a = await SendAsync(HttpMethod.Put, "v1/txn", null, new ByteArrayContent(body), _options.RequestTimeout, what, ct).ConfigureAwait(false);
        if (a.Status is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
        {
            throw Error(a, what);
        }

        var r = Parse(a, ConsulJsonContext.Default.TxnResponse, what);
        if (a.Status == HttpStatusCode.Conflict && r.Committed)
        {
            throw Unreadable(a, what, null); // 409 without errors: not an answer Consul gives
        }

        // An ACL denial of one operation is reported as a rolled-back transaction, not as 403.
        if (r.Errors?.FirstOrDefault(e => ConsulErrors.IsAclDenial(e.What)) is { } denied)
        {
            throw new RegistryAuthenticationException($"Consul at {Address} refused {what}: {denied.What}. Check the ACL token's key_prefix rules.");
        }

        return r;
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
            _http.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary><c>v1/kv/</c> plus the key, each segment escaped (registry keys use only URL-safe characters anyway).</summary>
    private static string KvPath(string key) => "v1/kv/" + string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    private async Task<Answer> SendAsync(HttpMethod method, string path, string? query, HttpContent? content, TimeSpan timeout, string what, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (_options.Datacenter is { } dc)
        {
            query = (query is null ? "" : query + "&") + "dc=" + Uri.EscapeDataString(dc);
        }

        using var request = new HttpRequestMessage(method, query is null ? path : path + "?" + query) { Content = content };
        if (_options.Token is { } token)
        {
            request.Headers.TryAddWithoutValidation("X-Consul-Token", token);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposed.Token);
        cts.CancelAfter(timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            ulong index = 0;
            if (response.Headers.TryGetValues("X-Consul-Index", out var values))
            {
                _ = ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out index);
            }

            return new Answer(response.StatusCode, body, index);
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException or ObjectDisposedException)
        {
            ct.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (ex is OperationCanceledException)
            {
                ConsulLog.RequestTimedOut(_logger, Address, what, timeout);
                throw new RegistryUnavailableException($"Consul at {Address} did not answer {what} within {timeout.TotalSeconds:0.###} s.", ex);
            }

            if (FindTlsFailure(ex) is { } tls)
            {
                throw new RegistryAuthenticationException($"The TLS handshake with Consul at {Address} failed ({what}): {tls.Message} Check the CA, the client certificate and ServerName.", ex);
            }

            ConsulLog.RequestFailed(_logger, Address, what, ex.Message);
            throw new RegistryUnavailableException($"Consul at {Address} is unreachable ({what}): {ex.Message}", ex);
        }
    }

    private static AuthenticationException? FindTlsFailure(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException a)
            {
                return a;
            }
        }

        return null;
    }

    private T Parse<T>(Answer a, JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(a.Body, type) ?? throw Unreadable(a, what, null);
        }
        catch (JsonException ex)
        {
            throw Unreadable(a, what, ex);
        }
    }

    private bool IsTrue(Answer a, string what)
    {
        var s = a.Body.AsSpan().Trim(" \r\n\t"u8);
        if (s.SequenceEqual(True))
        {
            return true;
        }

        return s.SequenceEqual("false"u8) ? false : throw Unreadable(a, what, null);
    }

    private ConsulApiException Unreadable(Answer a, string what, Exception? inner) =>
        new($"Consul at {Address} gave an unreadable answer to {what} (HTTP {(int)a.Status}): {ConsulErrors.Text(a.Body)}", Address, a.Status, ConsulErrors.Text(a.Body), inner);

    private RegistryException Error(Answer a, string what) => ConsulErrors.Map(Address, what, a.Status, a.Body);

    /// <summary>What came back: the status, the body and the X-Consul-Index header (0 when absent).</summary>
    private readonly record struct Answer(HttpStatusCode Status, byte[] Body, ulong Index);
}
