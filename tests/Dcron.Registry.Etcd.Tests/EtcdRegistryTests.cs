using System.Text;
using DistributedCron.Registry.Etcd.Client;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>etcd-specific behaviour beyond the conformance suite, on a plain etcd.</summary>
public sealed class EtcdRegistryTests(PlainEtcdFixture etcd) : IClassFixture<PlainEtcdFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(1));
    private readonly string _ns = "reg-" + Guid.NewGuid().ToString("N")[..10];
    private EtcdHttpClient _raw = null!;

    private CancellationToken Ct => _deadline.Token;

    public Task InitializeAsync()
    {
        _raw = new EtcdHttpClient(etcd.Cluster.Options("raw"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _raw.DisposeAsync();
        _deadline.Dispose();
    }

    [Fact]
    public async Task A_node_whose_status_changed_keeps_its_lease_and_still_expires()
    {
        // The Go library's status update rewrote the key without its lease, so a crashed node never expired (B2).
        await using var r = new EtcdRegistry(etcd.Cluster.Options(_ns));
        await using var nodes = await NodeWatchFolder.StartAsync(r, TimeSpan.FromSeconds(10), Ct);
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(2), Ct);
        var lease = (await NodeKvAsync("n1"))!.Lease;
        Assert.NotEqual(0, lease);
        await r.UpdateNodeStatusAsync("n1", NodeStatus.Working, Ct);
        await r.UpdateNodeStatusAsync("n1", NodeStatus.Leaving, Ct);
        Assert.Equal(lease, (await NodeKvAsync("n1"))!.Lease);

        await nodes.WaitUntilAsync(v => !v.ContainsKey("n1"), TimeSpan.FromSeconds(10), "the lease expired with the node", Ct);
        await Assert.ThrowsAsync<NodeNotFoundException>(() => r.HeartbeatAsync("n1", Ct));
        await Assert.ThrowsAsync<NodeNotFoundException>(() => r.UpdateNodeStatusAsync("n1", NodeStatus.Working, Ct));
    }

    [Fact]
    public async Task Registering_again_replaces_the_lease_and_revokes_the_old_one()
    {
        await using var r = new EtcdRegistry(etcd.Cluster.Options(_ns));
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(30), Ct);
        var first = (await NodeKvAsync("n1"))!.Lease;
        await r.RegisterNodeAsync(new Node { Id = "n1", Status = NodeStatus.Working }, TimeSpan.FromSeconds(30), Ct);
        var second = (await NodeKvAsync("n1"))!.Lease;
        Assert.NotEqual(first, second);
        Assert.Equal(-1, (await _raw.LeaseTimeToLiveAsync(first, Ct)).Ttl);
        Assert.Equal(30, (await _raw.LeaseTimeToLiveAsync(second, Ct)).GrantedTtl);

        // Another instance (a restarted process) heartbeats the node through the lease on its key.
        await using var other = new EtcdRegistry(etcd.Cluster.Options(_ns));
        await other.HeartbeatAsync("n1", Ct);
        await other.UnregisterNodeAsync("n1", Ct);
        Assert.Equal(-1, (await _raw.LeaseTimeToLiveAsync(second, Ct)).Ttl); // unregister revokes the lease too
        await Assert.ThrowsAsync<NodeNotFoundException>(() => r.HeartbeatAsync("n1", Ct));
    }

    [Fact]
    public async Task A_claim_applied_on_the_server_whose_answer_was_lost_is_still_granted_when_retried()
    {
        // The wrapper sends every txn twice and returns the second answer: what the client's failover does when a
        // member applied a request and died before answering.
        await using var r = new EtcdRegistry(etcd.Cluster.Options(_ns), (o, _) => new ReplayingClient(new EtcdHttpClient(o)), null);
        var claim = await r.CanRunTaskAsync("job", T0, "n1", Ct);
        Assert.True(claim.Granted);
        Assert.Equal(1, claim.FencingToken);
        var again = await r.CanRunTaskAsync("job", T0.AddSeconds(1), "n1", Ct);
        Assert.True(again.Granted);
        Assert.Equal(2, again.FencingToken);
        Assert.False((await r.CanRunTaskAsync("job", T0.AddSeconds(1), "n1", Ct)).Granted); // a real second ask is refused

        await using var plain = new EtcdRegistry(etcd.Cluster.Options(_ns));
        var state = await plain.GetFireStateAsync("job", Ct);
        Assert.Equal(2, state!.FencingToken);
        Assert.Equal(T0.AddSeconds(1), state.LastScheduledAt);
    }

    [Fact]
    public async Task Stored_documents_are_the_shared_registry_json()
    {
        await using var r = new EtcdRegistry(etcd.Cluster.Options(_ns));
        await r.PutTaskAsync(new TaskMeta { Name = "doc", CronFormat = "@every 1s", OneShot = true }, Ct);
        var claim = await r.CanRunTaskAsync("doc", T0, "n1", Ct);
        await r.CompleteFireAsync(claim, new FireOutcome { Status = FireStatus.Failed, Error = "boom", Duration = TimeSpan.FromMilliseconds(5) }, Ct);
        var meta = await RawAsync($"/{_ns}/tasks/meta/doc");
        Assert.Equal("""{"name":"doc","cron_format":"@every 1s","one_shot":true}""", meta);
        var fire = await RawAsync($"/{_ns}/fires/doc");
        var state = RegistryJson.Deserialize<TaskFireState>(fire!);
        Assert.Equal(FireStatus.Failed, state.LastOutcome!.Status);
        Assert.Equal(1, state.LastOutcome.FencingToken);
        Assert.Contains("\"claim_id\":", fire);
        Assert.Contains("\"owner\":\"n1\"", fire);
    }

    private async Task<KeyValue?> NodeKvAsync(string id) =>
        (await _raw.RangeAsync(new RangeRequest { Key = Encoding.UTF8.GetBytes($"/{_ns}/nodes/{id}") }, Ct)).Kvs.FirstOrDefault();

    private async Task<string?> RawAsync(string key) =>
        (await _raw.RangeAsync(new RangeRequest { Key = Encoding.UTF8.GetBytes(key) }, Ct)).Kvs.FirstOrDefault() is { } kv
            ? Encoding.UTF8.GetString(kv.Value)
            : null;

    /// <summary>Sends each txn twice (the first answer is "lost") and passes everything else through.</summary>
    private sealed class ReplayingClient(IEtcdClient inner) : IEtcdClient
    {
        public string CurrentEndpoint => inner.CurrentEndpoint;

        public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken ct) => inner.RangeAsync(request, ct);

        public Task<PutResponse> PutAsync(PutRequest request, CancellationToken ct) => inner.PutAsync(request, ct);

        public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken ct) => inner.DeleteRangeAsync(request, ct);

        public async Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken ct)
        {
            await inner.TxnAsync(request, ct);
            return await inner.TxnAsync(request, ct);
        }

        public Task<LeaseGrantResponse> LeaseGrantAsync(long ttlSeconds, CancellationToken ct) => inner.LeaseGrantAsync(ttlSeconds, ct);

        public Task<LeaseKeepAliveResponse> LeaseKeepAliveAsync(long leaseId, CancellationToken ct) => inner.LeaseKeepAliveAsync(leaseId, ct);

        public Task<bool> LeaseRevokeAsync(long leaseId, CancellationToken ct) => inner.LeaseRevokeAsync(leaseId, ct);

        public Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long leaseId, CancellationToken ct) => inner.LeaseTimeToLiveAsync(leaseId, ct);

        public Task<IEtcdWatchStream> WatchAsync(WatchCreateRequest request, CancellationToken ct) => inner.WatchAsync(request, ct);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
