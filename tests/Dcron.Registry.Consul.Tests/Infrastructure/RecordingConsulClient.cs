using DistributedCron.Registry.Consul.Client;

namespace DistributedCron.Registry.Consul.Tests.Infrastructure;

/// <summary>
/// Wraps the registry's wire client and records its prefix reads, so a test knows which answers a watch has folded
/// (a watch asks for the next answer only after it has handed out the events of the previous one) and which
/// blocking waits it asked for.
/// </summary>
internal sealed class RecordingConsulClient(IConsulClient inner) : IConsulClient
{
    private readonly Lock _gate = new();
    private readonly List<TimeSpan?> _waits = new();
    private ulong _answered;
    private ulong _folded;

    /// <summary>Wraps a real client to the options' address.</summary>
    public static ConsulRegistry Registry(ConsulRegistryOptions options, out RecordingConsulClient recorder)
    {
        RecordingConsulClient? made = null;
        var registry = new ConsulRegistry(options, (o, log) => made = new RecordingConsulClient(new ConsulHttpClient(o, log)), null);
        recorder = made!;
        return registry;
    }

    /// <summary>The highest X-Consul-Index among the answers returned before the latest prefix read started: what the watch has folded.</summary>
    public ulong FoldedIndex
    {
        get
        {
            lock (_gate)
            {
                return _folded;
            }
        }
    }

    /// <summary>The wait of every prefix read so far (null: a plain read).</summary>
    public IReadOnlyList<TimeSpan?> Waits
    {
        get
        {
            lock (_gate)
            {
                return _waits.ToArray();
            }
        }
    }

    public string Address => inner.Address;

    public async Task<KvList> ListAsync(string prefix, ulong index, TimeSpan? wait, CancellationToken ct)
    {
        lock (_gate)
        {
            _folded = _answered;
            _waits.Add(wait);
        }

        var answer = await inner.ListAsync(prefix, index, wait, ct).ConfigureAwait(false);
        lock (_gate)
        {
            _answered = Math.Max(_answered, answer.Index);
        }

        return answer;
    }

    public Task<KvEntry?> GetAsync(string key, CancellationToken ct) => inner.GetAsync(key, ct);

    public Task<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken ct) => inner.KeysAsync(prefix, ct);

    public Task<bool> PutAsync(string key, byte[] value, KvWrite condition, CancellationToken ct) => inner.PutAsync(key, value, condition, ct);

    public Task<bool> DeleteAsync(string key, ulong? cas, CancellationToken ct) => inner.DeleteAsync(key, cas, ct);

    public Task<string> CreateSessionAsync(SessionCreateRequest request, CancellationToken ct) => inner.CreateSessionAsync(request, ct);

    public Task<SessionInfo?> RenewSessionAsync(string id, CancellationToken ct) => inner.RenewSessionAsync(id, ct);

    public Task DestroySessionAsync(string id, CancellationToken ct) => inner.DestroySessionAsync(id, ct);

    public Task<SessionInfo?> SessionInfoAsync(string id, CancellationToken ct) => inner.SessionInfoAsync(id, ct);

    public Task<IReadOnlyList<SessionInfo>> ListSessionsAsync(CancellationToken ct) => inner.ListSessionsAsync(ct);

    public Task<TxnResponse> TxnAsync(IReadOnlyList<TxnKvOp> ops, CancellationToken ct) => inner.TxnAsync(ops, ct);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
