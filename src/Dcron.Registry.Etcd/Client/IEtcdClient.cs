namespace DistributedCron.Registry.Etcd.Client;

/// <summary>
/// The part of etcd's v3 API the registry uses. Every call fails over between the configured members and throws
/// <see cref="RegistryUnavailableException"/> (no member answered within the request timeout),
/// <see cref="RegistryAuthenticationException"/> (credentials refused, permission denied, TLS handshake refused) or
/// <see cref="EtcdException"/> (any other error etcd returned).
/// </summary>
internal interface IEtcdClient : IAsyncDisposable
{
    /// <summary>The endpoint requests currently go to.</summary>
    string CurrentEndpoint { get; }

    Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken ct);

    Task<PutResponse> PutAsync(PutRequest request, CancellationToken ct);

    Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken ct);

    Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken ct);

    /// <summary>Grants a lease of <paramref name="ttlSeconds"/> (etcd raises it to its minimum, 2 s by default).</summary>
    Task<LeaseGrantResponse> LeaseGrantAsync(long ttlSeconds, CancellationToken ct);

    /// <summary>Renews a lease once; a response with <c>Ttl == 0</c> means the lease does not exist any more.</summary>
    Task<LeaseKeepAliveResponse> LeaseKeepAliveAsync(long leaseId, CancellationToken ct);

    /// <summary>Revokes a lease (its keys are deleted); false when it did not exist.</summary>
    Task<bool> LeaseRevokeAsync(long leaseId, CancellationToken ct);

    /// <summary>The remaining TTL of a lease; <c>Ttl == -1</c> when it does not exist.</summary>
    Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long leaseId, CancellationToken ct);

    /// <summary>
    /// Opens one watch stream (with failover while opening) and returns once etcd confirmed its creation. The stream
    /// then yields responses until it breaks, which surfaces as <see cref="RegistryUnavailableException"/> from
    /// <see cref="IEtcdWatchStream.ReadAsync"/>; resuming is the caller's job.
    /// </summary>
    Task<IEtcdWatchStream> WatchAsync(WatchCreateRequest request, CancellationToken ct);
}

/// <summary>One open watch on one member.</summary>
internal interface IEtcdWatchStream : IAsyncDisposable
{
    /// <summary>The member serving the stream.</summary>
    string Endpoint { get; }

    /// <summary>The creation response (its header revision is the store revision when the watch started).</summary>
    WatchResponse Created { get; }

    /// <summary>
    /// The next response (events, progress, or a cancellation such as compaction). Throws
    /// <see cref="RegistryUnavailableException"/> when the stream breaks or ends.
    /// </summary>
    ValueTask<WatchResponse> ReadAsync(CancellationToken ct);
}
