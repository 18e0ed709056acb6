using DistributedCron.Testing.Conformance;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace DistributedCron.Tests.Registry;

/// <summary>What InMemoryRegistry adds to the contract: its clock, its store, overflow and the outage switch.</summary>
public sealed class InMemoryRegistryTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<IAsyncDisposable> _owned = new();
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(1));

    private CancellationToken Ct => _cts.Token;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var d in Enumerable.Reverse(_owned))
        {
            await d.DisposeAsync();
        }

        _cts.Dispose();
    }

    private T Own<T>(T d)
        where T : IAsyncDisposable
    {
        _owned.Add(d);
        return d;
    }

    [Fact]
    public async Task Expiry_is_driven_by_the_clock_and_delivered_without_any_other_call()
    {
        var r = Own(new InMemoryRegistry(_clock));
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(5), Ct);
        await r.RegisterNodeAsync(new Node { Id = "n2" }, TimeSpan.FromSeconds(8), Ct);
        var watch = Own(await NodeWatchFolder.StartAsync(r, Timeout, Ct));

        _clock.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.Equal(2, (await r.GetNodesAsync(Ct)).Count);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await watch.WaitUntilAsync(v => !v.ContainsKey("n1") && v.ContainsKey("n2"), Timeout, "n1 expires by the timer alone");

        await r.HeartbeatAsync("n2", Ct); // at t = 5 s: n2 now lives until 13 s
        _clock.Advance(TimeSpan.FromSeconds(7.9));
        Assert.Equal(["n2"], (await r.GetNodesAsync(Ct)).Select(n => n.Id));
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        await watch.WaitUntilAsync(v => v.Count == 0, Timeout, "n2 expires at its extended deadline");
        Assert.Equal(NodeEventKind.Removed, watch.Events[^1].Kind);
    }

    [Fact]
    public async Task A_full_watch_queue_is_replaced_by_one_snapshot_and_writers_never_wait()
    {
        var r = Own(new InMemoryRegistry(_clock, new InMemoryRegistryOptions { WatchBufferCapacity = 4 }));
        await using var e = r.WatchTasksAsync(Ct).GetAsyncEnumerator(Ct);
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(TaskEventKind.Snapshot, e.Current.Kind);

        for (var i = 0; i < 10; i++)
        {
            await r.PutTaskAsync(new TaskMeta { Name = $"t{i}", CronFormat = "@daily" }, Ct); // completes at once: never blocked by the reader
        }

        var received = new List<TaskEvent>();
        do
        {
            Assert.True(await e.MoveNextAsync());
            received.Add(e.Current);
        }
        while (!(e.Current.Name == "t9" || (e.Current.Kind == TaskEventKind.Snapshot && e.Current.Tasks.ContainsKey("t9"))));

        Assert.True(received.Count <= 4, $"at most the buffer's worth: {received.Count}");
        var snapshot = Assert.Single(received, ev => ev.Kind == TaskEventKind.Snapshot);
        var afterSnapshot = received.SkipWhile(ev => ev != snapshot).Skip(1).Select(ev => ev.Name);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"t{i}").Except(snapshot.Tasks.Keys).ToArray(), afterSnapshot.ToArray());
    }

    [Fact]
    public async Task An_outage_fails_every_call_and_recovery_resyncs_every_watch_with_a_snapshot()
    {
        var store = new InMemoryStore(_clock);
        var r = Own(new InMemoryRegistry(store, "ns"));
        await r.RegisterNodeAsync(new Node { Id = "short" }, TimeSpan.FromSeconds(1), Ct);
        await r.RegisterNodeAsync(new Node { Id = "long" }, TimeSpan.FromHours(1), Ct);
        var nodes = Own(await NodeWatchFolder.StartAsync(r, Timeout, Ct));

        store.IsAvailable = false;
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => r.GetNodesAsync(Ct));
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => r.CanRunTaskAsync("job", _clock.GetUtcNow(), "long", Ct));
        var late = Own(new InMemoryRegistry(store, "ns"));
        var lateWatchTask = NodeWatchFolder.StartAsync(late, Timeout, Ct); // no snapshot while the store is down
        _clock.Advance(TimeSpan.FromSeconds(2)); // expiry goes on during the outage, unseen
        Assert.False(lateWatchTask.IsCompleted);
        Assert.Single(nodes.Events);

        store.IsAvailable = true;
        var lateWatch = Own(await lateWatchTask);
        await nodes.WaitUntilAsync(v => v.Count == 1 && v.ContainsKey("long"), Timeout, "the resync snapshot");
        Assert.Equal(NodeEventKind.Snapshot, nodes.Events[^1].Kind);
        Assert.Equal(["long"], lateWatch.View.Keys);
        Assert.True((await r.CanRunTaskAsync("job", _clock.GetUtcNow(), "long", Ct)).Granted);
    }

    [Fact]
    public async Task Clients_of_one_store_share_a_namespace_and_a_disposed_client_leaves_its_nodes_to_their_ttl()
    {
        var store = new InMemoryStore(_clock);
        var a = new InMemoryRegistry(store, "shared");
        var b = Own(new InMemoryRegistry(null, new InMemoryRegistryOptions { Store = store, Namespace = "shared" }));
        Assert.Same(store, b.Store);
        Assert.Equal("shared", b.Namespace);
        await a.RegisterNodeAsync(new Node { Id = "a" }, TimeSpan.FromSeconds(3), Ct);
        await a.PutTaskAsync(new TaskMeta { Name = "t", CronFormat = "@daily" }, Ct);
        await a.MarkTaskDeletedAsync("gone", Ct);
        Assert.True((await a.CanRunTaskAsync("t", _clock.GetUtcNow(), "a", Ct)).Granted);
        Assert.Equal(4, store.CountRecords("shared"));
        Assert.Equal(0, store.CountRecords("other"));

        await a.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => a.GetNodesAsync(Ct));
        Assert.Throws<ObjectDisposedException>(() => a.WatchNodesAsync(Ct));
        Assert.Equal(["a"], (await b.GetNodesAsync(Ct)).Select(n => n.Id));
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Empty(await b.GetNodesAsync(Ct));
        Assert.Equal(3, store.CountRecords("shared"));
    }

    [Fact]
    public void Options_are_validated()
    {
        var store = new InMemoryStore(_clock);
        Assert.Throws<ArgumentException>(() => new InMemoryRegistry(new FakeTimeProvider(), new InMemoryRegistryOptions { Store = store }));
        Assert.Throws<ArgumentException>(() => new InMemoryRegistry(store, ""));
        Assert.Contains("'a b'", Assert.Throws<ArgumentException>(() => new InMemoryRegistry(store, "a b")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryRegistry(_clock, new InMemoryRegistryOptions { WatchBufferCapacity = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryRegistry(_clock, new InMemoryRegistryOptions { MaxPayloadBytes = -1 }));
        Assert.Throws<ArgumentNullException>(() => new InMemoryRegistry((InMemoryStore)null!));
        Assert.Same(_clock, new InMemoryRegistry(store, "x").Store.TimeProvider);
        Assert.Equal(InMemoryRegistryOptions.DefaultNamespace, new InMemoryRegistry().Namespace);
    }

    [Fact]
    public async Task The_payload_limit_is_configurable()
    {
        var r = Own(new InMemoryRegistry(_clock, new InMemoryRegistryOptions { MaxPayloadBytes = 4 }));
        await r.PutTaskAsync(new TaskMeta { Name = "ok", CronFormat = "@daily", Payload = "abcd" }, Ct);
        var ex = await Assert.ThrowsAsync<PayloadTooLargeException>(() => r.PutTaskAsync(new TaskMeta { Name = "big", CronFormat = "@daily", Payload = "abcé" }, Ct));
        Assert.Equal((5, 4), (ex.ActualBytes, ex.MaxBytes));
    }

    [Fact]
    public async Task Claims_are_keyed_on_whole_utc_milliseconds()
    {
        var r = Own(new InMemoryRegistry(_clock));
        var at = new DateTimeOffset(2030, 6, 1, 12, 0, 0, 0, TimeSpan.FromHours(2)).AddTicks(7_777);
        var claim = await r.CanRunTaskAsync("job", at, "n1", Ct);
        Assert.Equal(new DateTimeOffset(2030, 6, 1, 10, 0, 0, 0, TimeSpan.Zero), claim.ScheduledAt);
        Assert.Equal(TimeSpan.Zero, claim.ScheduledAt.Offset);
        await Assert.ThrowsAsync<ArgumentException>(() => r.CompleteFireAsync(claim with { Granted = false }, new FireOutcome { Status = FireStatus.Succeeded }, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => r.CanRunTaskAsync("job", at, " ", Ct));
    }
}
