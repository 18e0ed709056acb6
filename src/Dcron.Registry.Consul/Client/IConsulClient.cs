namespace DistributedCron.Registry.Consul.Client;

/// <summary>
/// The part of Consul's HTTP API the registry needs. Every method throws <see cref="RegistryUnavailableException"/>
/// when the agent cannot be reached or does not answer in time, <see cref="RegistryAuthenticationException"/> for an
/// ACL refusal (403), <see cref="ConsulApiException"/> for any other unexpected answer, and
/// <see cref="OperationCanceledException"/> when the caller's token is cancelled.
/// </summary>
internal interface IConsulClient : IAsyncDisposable
{
    /// <summary>The agent's address (for messages).</summary>
    string Address { get; }

    /// <summary><c>GET /v1/kv/{key}</c>: the entry, or null when the key does not exist.</summary>
    Task<KvEntry?> GetAsync(string key, CancellationToken ct);

    /// <summary>
    /// <c>GET /v1/kv/{prefix}?recurse</c>: every entry under the prefix (empty when none) and the X-Consul-Index.
    /// With <paramref name="index"/> &gt; 0 and a <paramref name="wait"/> it is a blocking query: it returns once the
    /// prefix's index passes <paramref name="index"/>, or after the wait (plus Consul's jitter) unchanged.
    /// </summary>
    Task<KvList> ListAsync(string prefix, ulong index, TimeSpan? wait, CancellationToken ct);

    /// <summary><c>GET /v1/kv/{prefix}?keys</c>: the keys under the prefix (empty when none).</summary>
    Task<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken ct);

    /// <summary><c>PUT /v1/kv/{key}</c> with the raw value and at most one of cas / acquire / release; Consul's true or false.</summary>
    Task<bool> PutAsync(string key, byte[] value, KvWrite condition, CancellationToken ct);

    /// <summary><c>DELETE /v1/kv/{key}</c> (optionally <c>?cas=</c>); Consul's true or false.</summary>
    Task<bool> DeleteAsync(string key, ulong? cas, CancellationToken ct);

    /// <summary><c>PUT /v1/session/create</c>: the new session's id.</summary>
    Task<string> CreateSessionAsync(SessionCreateRequest request, CancellationToken ct);

    /// <summary><c>PUT /v1/session/renew/{id}</c>: the session, or null when it no longer exists (404).</summary>
    Task<SessionInfo?> RenewSessionAsync(string id, CancellationToken ct);

    /// <summary><c>PUT /v1/session/destroy/{id}</c> (idempotent).</summary>
    Task DestroySessionAsync(string id, CancellationToken ct);

    /// <summary><c>GET /v1/session/info/{id}</c>: the session, or null when it does not exist.</summary>
    Task<SessionInfo?> SessionInfoAsync(string id, CancellationToken ct);

    /// <summary><c>GET /v1/session/list</c>: every session of the datacenter.</summary>
    Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(CancellationToken ct);

    /// <summary><c>PUT /v1/txn</c>: committed (200) or rolled back with its errors (409).</summary>
    Task<TxnResponse> TxnAsync(IReadOnlyList<TxnKvOp> ops, CancellationToken ct);
}
