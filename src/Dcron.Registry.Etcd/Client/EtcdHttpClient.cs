using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.Etcd.Client;

/// <summary>
/// etcd's v3 HTTP/JSON gateway over one <see cref="HttpClient"/>: unary calls with endpoint failover and
/// authentication (token per member, renewed when etcd calls it invalid), and streamed watches
/// (<see cref="EtcdHttpClient"/>.Watch.cs).
/// </summary>
/// <remarks>
/// A call tries the member in use first, then the others in order; a member that failed (not reachable, no answer
/// within its share of the timeout, 5xx, "no leader") is left, and the member that answers becomes the one in use.
/// When every member failed, the round is repeated after a short pause (an election takes a second or two) until
/// the request timeout is spent.
/// </remarks>
internal sealed partial class EtcdHttpClient : IEtcdClient
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    private static readonly string[] RetriableMessages =
    [
        "no leader", "leader changed", "timed out", "not capable", "server stopped", "connection is closing",
        "transport is closing", "connection closed", "too many requests",
    ];
    private readonly HttpClient _http;
    private readonly Uri[] _endpoints;
    private readonly string[] _names;
    private readonly EndpointAuth[] _auth;
    private readonly string? _username;
    private readonly string? _password;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _attemptTimeout;
    private readonly ILogger _logger;
    private int _current;
    private int _failovers;
    private int _disposed;

    public EtcdHttpClient(EtcdRegistryOptions options, ILogger? logger = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _endpoints = options.Endpoints.Select(e => new Uri(e.TrimEnd('/') + "/", UriKind.Absolute)).ToArray();
        _names = _endpoints.Select(u => u.GetLeftPart(UriPartial.Authority)).ToArray();
        _auth = _endpoints.Select(_ => new EndpointAuth()).ToArray();
        _username = string.IsNullOrEmpty(options.Username) ? null : options.Username;
        _password = options.Password;
        _requestTimeout = options.RequestTimeout;
        _attemptTimeout = _endpoints.Length > 1 ? options.RequestTimeout / 2 : options.RequestTimeout;
        _http = new HttpClient(handler ?? EtcdHttpHandlerFactory.Create(options), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <inheritdoc />
    public string CurrentEndpoint => _names[Volatile.Read(ref _current)];

    /// <summary>All configured endpoints, as given (scheme://host:port).</summary>
    public IReadOnlyList<string> Endpoints => _names;

    /// <summary>How many times requests moved from one member to another (for tests and logs).</summary>
    public int FailoverCount => Volatile.Read(ref _failovers);

    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken ct) =>
        CallAsync("v3/kv/range", request, EtcdJsonContext.Default.RangeRequest, EtcdJsonContext.Default.RangeResponse, ct);

    public Task<PutResponse> PutAsync(PutRequest request, CancellationToken ct) =>
        CallAsync("v3/kv/put", request, EtcdJsonContext.Default.PutRequest, EtcdJsonContext.Default.PutResponse, ct);

    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken ct) =>
        CallAsync("v3/kv/deleterange", request, EtcdJsonContext.Default.DeleteRangeRequest, EtcdJsonContext.Default.DeleteRangeResponse, ct);

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken ct) =>
        CallAsync("v3/kv/txn", request, EtcdJsonContext.Default.TxnRequest, EtcdJsonContext.Default.TxnResponse, ct);

    public Task<LeaseGrantResponse> LeaseGrantAsync(long ttlSeconds, CancellationToken ct) =>
        CallAsync("v3/lease/grant", new LeaseGrantRequest { Ttl = ttlSeconds },
            EtcdJsonContext.Default.LeaseGrantRequest, EtcdJsonContext.Default.LeaseGrantResponse, ct);

    public async Task<LeaseKeepAliveResponse> LeaseKeepAliveAsync(long leaseId, CancellationToken ct)
    {
        // A streamed call: the gateway answers one message per request message, and the request body has one.
        var message = await CallAsync("v3/lease/keepalive", new LeaseIdRequest { Id = leaseId },
            EtcdJsonContext.Default.LeaseIdRequest, EtcdJsonContext.Default.StreamMessageLeaseKeepAliveResponse, ct).ConfigureAwait(false);
        if (message.Result is { } r)
        {
            return r;
        }

        var e = message.Error;
        throw new EtcdException(CurrentEndpoint, "/v3/lease/keepalive", e?.GrpcCode ?? 2, e?.Message ?? "keepalive stream ended without an answer");
    }

    public async Task<bool> LeaseRevokeAsync(long leaseId, CancellationToken ct)
    {
        try
        {
            await CallAsync("v3/lease/revoke", new LeaseIdRequest { Id = leaseId },
                EtcdJsonContext.Default.LeaseIdRequest, EtcdJsonContext.Default.EmptyResponse, ct).ConfigureAwait(false);
            return true;
        }
        catch (EtcdException ex) when (ex.IsLeaseNotFound)
        {
            return false;
        }
    }

    public Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long leaseId, CancellationToken ct) =>
        CallAsync("v3/lease/timetolive", new LeaseIdRequest { Id = leaseId },
            EtcdJsonContext.Default.LeaseIdRequest, EtcdJsonContext.Default.LeaseTimeToLiveResponse, ct);

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _http.Dispose();
            foreach (var a in _auth)
            {
                a.Gate.Dispose();
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>One unary call with failover; see the class remarks.</summary>
    private async Task<TResp> CallAsync<TReq, TResp>(string path, TReq request, JsonTypeInfo<TReq> reqInfo, JsonTypeInfo<TResp> respInfo,
        CancellationToken ct)
        where TResp : class
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var body = JsonSerializer.SerializeToUtf8Bytes(request, reqInfo);
        var result = await WithFailoverAsync(path, async (index, attemptCt) =>
        {
            var (response, token) = await SendAsync(index, path, body, HttpCompletionOption.ResponseContentRead, attemptCt).ConfigureAwait(false);
            using var _ = response;
            var bytes = await response.Content.ReadAsByteArrayAsync(attemptCt).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return Attempt<TResp>.Fail(Classify(index, path, response.StatusCode, bytes), token);
            }

            return Attempt<TResp>.Ok(Deserialize(bytes, respInfo, index, path));
        }, ct).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> against the members (the one in use first) until one succeeds, a failure is
    /// final, or the request timeout is spent.
    /// </summary>
    private async Task<T> WithFailoverAsync<T>(string path, Func<int, CancellationToken, Task<Attempt<T>>> attempt, CancellationToken ct)
        where T : class
    {
        var started = Stopwatch.GetTimestamp();
        var lastError = new string?[_endpoints.Length];
        var round = 0;
        while (true)
        {
            var first = Volatile.Read(ref _current);
            for (var i = 0; i < _endpoints.Length; i++)
            {
                var index = (first + i) % _endpoints.Length;
                var remaining = _requestTimeout - Stopwatch.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    throw Unavailable(path, lastError);
                }

                var budget = remaining < _attemptTimeout ? remaining : _attemptTimeout;
                Failure failure;
                using (var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    attemptCts.CancelAfter(budget);
                    try
                    {
                        var reauthenticated = false;
                        while (true)
                        {
                            var r = await attempt(index, attemptCts.Token).ConfigureAwait(false);
                            if (r.Value is not null)
                            {
                                UseEndpoint(index, first);
                                return r.Value;
                            }

                            failure = r.Error!;
                            if (failure.Kind == FailureKind.TokenRejected && !reauthenticated && _username is not null)
                            {
                                reauthenticated = true;
                                _auth[index].Invalidate(r.TokenUsed);
                                continue;
                            }

                            break;
                        }
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (OperationCanceledException)
                    {
                        failure = Failure.Timeout($"no answer within {budget.TotalMilliseconds:0} ms");
                    }
                    catch (HttpRequestException ex) when (IsTlsRejection(ex))
                    {
                        throw new RegistryAuthenticationException(
                            $"TLS with etcd at {_names[index]} failed: {Describe(ex)}. Check CaCertificatePath/CaCertificates, ServerName and the client certificate.", ex);
                    }
                    catch (HttpRequestException ex)
                    {
                        failure = Failure.Retry(Describe(ex));
                    }
                    catch (IOException ex)
                    {
                        failure = Failure.Retry(ex.Message);
                    }
                    catch (EndpointFailedException ex)
                    {
                        failure = Failure.Retry(ex.Message);
                    }
                }

                switch (failure.Kind)
                {
                    case FailureKind.Retry:
                        // A late attempt cut short by the running-out budget says less than an earlier real error.
                        lastError[index] = failure.IsTimeout && lastError[index] is not null ? lastError[index] : failure.Message;
                        EtcdLog.EndpointFailed(_logger, _names[index], path, failure.Message);
                        continue;
                    case FailureKind.TokenRejected:
                        throw new RegistryAuthenticationException(
                            $"etcd at {_names[index]} rejected the auth token of user '{_username}' even after re-authenticating ({failure.Message}).");
                    default:
                        throw failure.Exception!;
                }
            }

            round++;
            var pause = TimeSpan.FromMilliseconds(Math.Min(50 * (1 << Math.Min(round, 4)), 500));
            var left = _requestTimeout - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw Unavailable(path, lastError);
            }

            await Task.Delay(pause < left ? pause : left, ct).ConfigureAwait(false);
        }
    }

    /// <summary>POSTs one request to one member, with its auth token when credentials are configured.</summary>
    private async Task<(HttpResponseMessage Response, string? Token)> SendAsync(int index, string path, byte[] body, HttpCompletionOption completion, CancellationToken ct,
        IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        var token = _username is null ? null : await GetTokenAsync(index, ct).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_endpoints[index], path))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = JsonMediaType } },
        };
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var response = await _http.SendAsync(request, completion, ct).ConfigureAwait(false);
        return (response, token);
    }

    private void UseEndpoint(int index, int previous)
    {
        if (index != previous && Interlocked.CompareExchange(ref _current, index, previous) == previous)
        {
            Interlocked.Increment(ref _failovers);
            EtcdLog.FailedOver(_logger, _names[previous], _names[index]);
        }
    }

    private T Deserialize<T>(byte[] bytes, JsonTypeInfo<T> info, int index, string path)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, info)
                ?? throw new RegistryException($"etcd at {_names[index]} answered /{path} with an empty document.");
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"etcd at {_names[index]} answered /{path} with a document that is not the expected JSON: {Preview(bytes)}", ex);
        }
    }

    /// <summary>Turns an error answer into a retry (outage), a token renewal or a final exception.</summary>
    private Failure Classify(int index, string path, HttpStatusCode status, byte[] body)
    {
        ErrorBody? error = null;
        try
        {
            error = JsonSerializer.Deserialize(body, EtcdJsonContext.Default.ErrorBody);
        }
        catch (JsonException)
        {
            // not an etcd error document (a proxy's page, for example): judged by the status code below
        }

        var message = error?.Message ?? error?.Error ?? $"HTTP {(int)status}: {Preview(body)}";
        return ClassifyError(index, path, error?.Code ?? -1, message, (int)status);
    }

    private Failure ClassifyError(int index, string path, int code, string message, int httpStatus)
    {
        var ep = _names[index];
        if (code == 16 || message.Contains("invalid auth token", StringComparison.Ordinal)
            || message.Contains("revision of auth store is old", StringComparison.Ordinal))
        {
            return _username is null
                ? Failure.Final(new RegistryAuthenticationException($"etcd at {ep} refused the request: {message}. Set EtcdRegistryOptions.Username and Password."))
                : Failure.TokenRejected(message);
        }

        if (message.Contains("user name is empty", StringComparison.Ordinal))
        {
            if (_username is not null)
            {
                // The member had auth disabled when this client first asked and has enabled it since.
                return Failure.TokenRejected(message);
            }

            return Failure.Final(new RegistryAuthenticationException(
                $"etcd at {ep} has authentication enabled and the registry has no credentials: set EtcdRegistryOptions.Username and Password."));
        }

        if (message.Contains("authentication failed", StringComparison.Ordinal))
        {
            return Failure.Final(new RegistryAuthenticationException(
                $"etcd at {ep} refused the credentials of user '{_username}': {message}."));
        }

        if (code == 7 || message.Contains("permission denied", StringComparison.Ordinal))
        {
            return Failure.Final(new RegistryAuthenticationException(
                $"etcd at {ep} denied /{path} to user '{_username}' ({message}): grant the user a role with readwrite permission on the namespace prefix."));
        }

        // Outages of this member: Unavailable, DeadlineExceeded, ResourceExhausted, Canceled (the gateway's own
        // connection to the member closing while it shuts down), 5xx, and etcd's election and shutdown messages.
        if (code is 14 or 4 or 8 or 1 || httpStatus >= 500 || RetriableMessages.Any(m => message.Contains(m, StringComparison.Ordinal)))
        {
            return Failure.Retry(message);
        }

        return Failure.Final(new EtcdException(ep, "/" + path, code, message));
    }

    private RegistryUnavailableException Unavailable(string path, string?[] lastError)
    {
        var parts = new List<string>();
        for (var i = 0; i < _names.Length; i++)
        {
            parts.Add($"{_names[i]}: {lastError[i] ?? "not tried (time ran out)"}");
        }

        return new RegistryUnavailableException(
            $"etcd did not answer /{path} within {_requestTimeout.TotalMilliseconds:0} ms; {string.Join("; ", parts)}.");
    }

    /// <summary>
    /// True when TLS itself refused the connection: our validation of the server's certificate failed, or the server
    /// sent a certificate alert (no or untrusted client certificate). Retrying elsewhere would only hide the cause.
    /// </summary>
    private static bool IsTlsRejection(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return true;
            }

            var m = e.Message;
            if (m.Contains("alert", StringComparison.OrdinalIgnoreCase)
                && (m.Contains("certificate", StringComparison.OrdinalIgnoreCase) || m.Contains("unknown ca", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(HttpRequestException ex)
    {
        var sb = new StringBuilder(ex.Message);
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            sb.Append(" (").Append(inner.Message).Append(')');
        }

        return sb.ToString();
    }

    private static string Preview(byte[] bytes)
    {
        var s = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 300));
        return bytes.Length > 300 ? s + "…" : s;
    }

    private enum FailureKind
    {
        Retry,
        TokenRejected,
        Final,
    }

    private sealed record Failure(FailureKind Kind, string Message, Exception? Exception, bool IsTimeout = false)
    {
        public static Failure Retry(string message) => new(FailureKind.Retry, message, null);

        public static Failure Timeout(string message) => new(FailureKind.Retry, message, null, IsTimeout: true);

        public static Failure TokenRejected(string message) => new(FailureKind.TokenRejected, message, null);

        public static Failure Final(Exception ex) => new(FailureKind.Final, ex.Message, ex);
    }

    private readonly record struct Attempt<T>(T? Value, Failure? Error, string? TokenUsed)
        where T : class
    {
        public static Attempt<T> Ok(T value) => new(value, null, null);

        public static Attempt<T> Fail(Failure error, string? tokenUsed = null) => new(null, error, tokenUsed);
    }
}
