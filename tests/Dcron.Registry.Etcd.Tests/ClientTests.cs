using System.Text;
using DistributedCron.Registry.Etcd.Client;
using DistributedCron.Registry.Etcd.Tests.Infrastructure;
using Xunit;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>One plain etcd (no auth) for the wire-client tests.</summary>
public sealed class PlainEtcdFixture : IAsyncLifetime
{
    public EtcdCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await EtcdCluster.StartAsync(1);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The gateway's traps, checked against the real server through the internal client.</summary>
public sealed class ClientTests(PlainEtcdFixture etcd) : IClassFixture<PlainEtcdFixture>, IAsyncLifetime
{
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(1));
    private EtcdHttpClient _client = null!;
    private readonly string _prefix = $"/client-{Guid.NewGuid():N}/";

    private CancellationToken Ct => _deadline.Token;

    public Task InitializeAsync()
    {
        _client = new EtcdHttpClient(etcd.Cluster.Options("unused"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        _deadline.Dispose();
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Lease_TTL_and_ID_travel_in_capitals_and_a_gone_lease_renews_without_TTL()
    {
        var grant = await _client.LeaseGrantAsync(7, Ct);
        Assert.Equal(7, grant.Ttl); // a camel-cased "ttl" would be ignored and granted the 2 s minimum
        Assert.True(grant.Id > int.MaxValue, $"lease ids are large int64 values sent as strings: {grant.Id}");

        var alive = await _client.LeaseKeepAliveAsync(grant.Id, Ct);
        Assert.Equal(grant.Id, alive.Id);
        Assert.Equal(7, alive.Ttl);
        var ttl = await _client.LeaseTimeToLiveAsync(grant.Id, Ct);
        Assert.Equal(7, ttl.GrantedTtl);

        Assert.True(await _client.LeaseRevokeAsync(grant.Id, Ct));
        Assert.False(await _client.LeaseRevokeAsync(grant.Id, Ct)); // "requested lease not found"
        var gone = await _client.LeaseKeepAliveAsync(grant.Id, Ct);
        Assert.Equal(0, gone.Ttl);
        Assert.Equal(-1, (await _client.LeaseTimeToLiveAsync(grant.Id, Ct)).Ttl);
    }

    [Fact]
    public async Task Missing_fields_read_as_zero_and_a_failed_txn_returns_its_failure_branch()
    {
        var key = B(_prefix + "k");
        var empty = await _client.RangeAsync(new RangeRequest { Key = key }, Ct);
        Assert.Empty(empty.Kvs);
        Assert.Equal(0, empty.Count);
        Assert.True(empty.Header.Revision > 0);

        var put = new TxnRequest
        {
            Compare = [Compare.Absent(key)],
            Success = [RequestOp.Put(new PutRequest { Key = key, Value = B("v1") })],
            Failure = [RequestOp.Range(new RangeRequest { Key = key })],
        };
        Assert.True((await _client.TxnAsync(put, Ct)).Succeeded);
        var second = await _client.TxnAsync(put, Ct);
        Assert.False(second.Succeeded); // the server leaves "succeeded" out
        var holder = Assert.Single(second.Responses[0].ResponseRange!.Kvs);
        Assert.Equal("v1", Encoding.UTF8.GetString(holder.Value));
        Assert.Equal(holder.CreateRevision, holder.ModRevision);

        var stale = new TxnRequest
        {
            Compare = [Compare.ModifiedAt(key, holder.ModRevision - 1)],
            Success = [RequestOp.Put(new PutRequest { Key = key, Value = B("v2") })],
        };
        Assert.False((await _client.TxnAsync(stale, Ct)).Succeeded);
        Assert.Equal(0, (await _client.DeleteRangeAsync(new DeleteRangeRequest { Key = B(_prefix + "nope") }, Ct)).Deleted);
        Assert.Equal(1, (await _client.DeleteRangeAsync(new DeleteRangeRequest { Key = key }, Ct)).Deleted);
    }

    [Fact]
    public async Task A_watch_streams_puts_and_deletes_from_a_start_revision()
    {
        var start = (await _client.PutAsync(new PutRequest { Key = B(_prefix + "w/a"), Value = B("1") }, Ct)).Header.Revision;
        await _client.PutAsync(new PutRequest { Key = B(_prefix + "w/a"), Value = B("2") }, Ct);
        await _client.DeleteRangeAsync(new DeleteRangeRequest { Key = B(_prefix + "w/a") }, Ct);
        await using var stream = await _client.WatchAsync(new WatchCreateRequest
        {
            Key = B(_prefix + "w/"),
            RangeEnd = EtcdKeys.PrefixEnd(_prefix + "w/"),
            StartRevision = start,
        }, Ct);
        Assert.True(stream.Created.Created);

        var events = new List<WatchEvent>();
        while (events.Count < 3)
        {
            events.AddRange((await stream.ReadAsync(Ct)).Events); // a replay may arrive in one message
        }

        Assert.Equal([false, false, true], events.Select(e => e.IsDelete));
        Assert.Equal(["1", "2"], events.Take(2).Select(e => Encoding.UTF8.GetString(e.Kv.Value)));
        Assert.Equal(start, events[0].Kv.ModRevision);

        await _client.PutAsync(new PutRequest { Key = B(_prefix + "w/b"), Value = B("live") }, Ct);
        var live = Assert.Single((await stream.ReadAsync(Ct)).Events);
        Assert.Equal(_prefix + "w/b", Encoding.UTF8.GetString(live.Kv.Key));
    }

    [Fact]
    public async Task A_key_attached_to_a_lease_keeps_it_through_a_compare_and_set()
    {
        var lease = (await _client.LeaseGrantAsync(30, Ct)).Id;
        var key = B(_prefix + "leased");
        await _client.PutAsync(new PutRequest { Key = key, Value = B("a"), Lease = lease }, Ct);
        var kv = Assert.Single((await _client.RangeAsync(new RangeRequest { Key = key }, Ct)).Kvs);
        Assert.Equal(lease, kv.Lease);
        await _client.TxnAsync(new TxnRequest
        {
            Compare = [Compare.ModifiedAt(key, kv.ModRevision)],
            Success = [RequestOp.Put(new PutRequest { Key = key, Value = B("b"), Lease = kv.Lease })],
        }, Ct);
        Assert.Equal(lease, Assert.Single((await _client.RangeAsync(new RangeRequest { Key = key }, Ct)).Kvs).Lease);
        await _client.LeaseRevokeAsync(lease, Ct);
        Assert.Empty((await _client.RangeAsync(new RangeRequest { Key = key }, Ct)).Kvs); // revoking deletes the key
    }

    [Fact]
    public async Task An_etcd_error_surfaces_with_its_code_and_message()
    {
        var ex = await Assert.ThrowsAsync<EtcdException>(() =>
            _client.PutAsync(new PutRequest { Key = B(_prefix + "x"), Value = B("v"), Lease = 12345 }, Ct));
        Assert.Equal(5, ex.GrpcCode);
        Assert.Contains("lease not found", ex.Message);
        Assert.Contains(etcd.Cluster.Endpoints[0], ex.Message);
    }

    [Fact]
    public async Task GetTasks_reads_more_than_one_page_at_one_revision()
    {
        const int count = 2_345; // pages of 1,000
        var ns = "pages-" + Guid.NewGuid().ToString("N")[..8];
        await using var r = new EtcdRegistry(etcd.Cluster.Options(ns));
        await Task.WhenAll(Enumerable.Range(0, count).Chunk(200).Select(async chunk =>
        {
            foreach (var i in chunk)
            {
                await r.PutTaskAsync(new TaskMeta { Name = $"t{i:D5}", CronFormat = "* * * * *" }, Ct);
            }
        }));
        var tasks = await r.GetTasksAsync(Ct);
        Assert.Equal(count, tasks.Count);
        Assert.Equal("t02344", tasks.Keys.Max(StringComparer.Ordinal));
    }
}
