using DistributedCron.Testing;
using DistributedCron.Testing.Consul;
using DistributedCron.Testing.Conformance;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>
/// The registry and its wire client against the emulator, beyond the conformance suite: error mapping, the 10 s TTL
/// floor, session expiry, the blocking-query reset rules, dropped connections, and claims whose answer was lost.
/// </summary>
public sealed class ConsulRegistryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2031, 3, 14, 15, 9, 26, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<IAsyncDisposable> _owned = new();
    private ConsulEmulatorServer _emulator = null!;
    private readonly string _ns = "crt-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        var options = EmulatorTarget.EmulatorOptions(_clock);
        options.Acl!.Tokens["reader"] = new AclPolicy { KeyPrefixes = new Dictionary<string, AclAccess> { [""] = AclAccess.Read } };
        _emulator = await ConsulEmulatorServer.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        foreach (var d in _owned.AsEnumerable().Reverse())
        {
            await d.DisposeAsync();
        }

        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task An_unknown_token_and_a_missing_permission_are_authentication_errors_naming_the_address()
    {
        var stranger = Registry(token: "who-am-i");
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => stranger.GetTasksAsync());
        Assert.Contains("ACL not found", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_emulator.Address, ex.Message, StringComparison.Ordinal);

        var reader = Registry(token: "reader");
        Assert.Empty(await reader.GetTasksAsync()); // reading is allowed
        var put = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => reader.PutTaskAsync(new TaskMeta { Name = "t", CronFormat = "@daily" }));
        Assert.Contains("Permission denied", put.Message, StringComparison.Ordinal);
        var add = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => reader.AddTaskAsync(new TaskMeta { Name = "t", CronFormat = "@daily" }));
        Assert.Contains("Permission denied", add.Message, StringComparison.Ordinal); // a txn denial comes back as 409
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => reader.RegisterNodeAsync(new Node { Id = "n" }, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Server_errors_map_to_typed_exceptions()
    {
        var r = Registry();
        _emulator.State.Faults.RpcErrorPrefix = true;
        _emulator.State.Faults.FailNext(1, 500, "No cluster leader");
        var noLeader = await Assert.ThrowsAsync<RegistryUnavailableException>(() => r.GetTasksAsync());
        Assert.Contains("rpc error making call: No cluster leader", noLeader.Message, StringComparison.Ordinal);
        _emulator.State.Faults.FailNext(1, 429, "rate limit exceeded");
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => r.GetTasksAsync());
        _emulator.State.Faults.FailNext(1, 500, "something unexpected");
        var other = await Assert.ThrowsAsync<ConsulApiException>(() => r.GetTasksAsync());
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, other.StatusCode);
        _emulator.State.Faults.FailNext(1, 403, "Permission denied");
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => r.GetTasksAsync());

        var refused = new ConsulRegistry(new ConsulRegistryOptions { Address = $"http://127.0.0.1:{FreePort.Next()}", Namespace = _ns });
        _owned.Add(refused);
        var down = await Assert.ThrowsAsync<RegistryUnavailableException>(() => refused.GetNodesAsync());
        Assert.Contains(refused.Address, down.Message, StringComparison.Ordinal);

        var lost = Registry(datacenter: "dc9");
        Assert.Contains("No path to datacenter", (await Assert.ThrowsAsync<ConsulApiException>(() => lost.GetNodesAsync())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ttl_below_the_session_minimum_is_raised_to_it_and_the_node_goes_at_Consuls_ttl_times_two()
    {
        var r = Registry();
        Assert.Equal(TimeSpan.FromSeconds(10), r.EffectiveSessionTtl(TimeSpan.FromSeconds(2)));
        Assert.Equal(TimeSpan.FromSeconds(13), r.EffectiveSessionTtl(TimeSpan.FromSeconds(12.5)));
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(2));
        var entry = _emulator.State.Get(_ns + "/nodes/n1")!;
        var session = _emulator.State.Session(entry.Session!)!;
        Assert.Equal(("10s", "delete", TimeSpan.Zero), (session.TTL, session.Behavior, session.LockDelay));
        Assert.Empty(session.NodeChecks);

        var watch = await NodeWatchFolder.StartAsync(r, TimeSpan.FromSeconds(10), default);
        _owned.Add(watch);
        _clock.Advance(TimeSpan.FromSeconds(19.9));
        Assert.Single(await r.GetNodesAsync()); // Consul's timer is TTL × 2
        _clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Empty(await r.GetNodesAsync());
        Assert.Null(_emulator.State.Get(_ns + "/nodes/n1")); // Behavior=delete removed the key
        await Assert.ThrowsAsync<NodeNotFoundException>(() => r.HeartbeatAsync("n1"));
        await watch.WaitUntilAsync(v => !v.ContainsKey("n1"), TimeSpan.FromSeconds(10), "the expiry is delivered");

        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(2)); // no lock-delay blocks the new session
        Assert.Single(await r.GetNodesAsync());
    }

    [Fact]
    public async Task Registering_a_node_id_again_takes_the_key_over_from_the_earlier_session()
    {
        var first = Registry();
        var second = Registry();
        await first.RegisterNodeAsync(new Node { Id = "same", Hostname = "old" }, TimeSpan.FromSeconds(30));
        await second.RegisterNodeAsync(new Node { Id = "same", Hostname = "new" }, TimeSpan.FromSeconds(30));
        Assert.Equal("new", Assert.Single(await first.GetNodesAsync()).Hostname);
        await Assert.ThrowsAsync<NodeNotFoundException>(() => first.HeartbeatAsync("same")); // its session was destroyed
        await second.HeartbeatAsync("same");
        Assert.Equal(1, _emulator.State.SessionCount);
    }

    [Fact]
    public async Task A_watch_whose_index_goes_backwards_or_to_zero_starts_again_with_a_snapshot()
    {
        var r = Registry();
        await r.PutTaskAsync(new TaskMeta { Name = "a", CronFormat = "@daily" });
        await using var e = r.WatchTasksAsync().GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(TaskEventKind.Snapshot, e.Current.Kind);

        // The answer to the parked query says index 1: lower than the watch's, so it starts again with a snapshot.
        var next = e.MoveNextAsync().AsTask();
        await ParkedAsync();
        _emulator.State.Faults.ForceIndexNext(1, 1, $"/v1/kv/{_ns}/tasks/");
        await r.PutTaskAsync(new TaskMeta { Name = "b", CronFormat = "@daily" });
        Assert.True(await next);
        Assert.Equal(TaskEventKind.Snapshot, e.Current.Kind);
        Assert.Equal(["a", "b"], e.Current.Tasks.Keys.Order(StringComparer.Ordinal));

        next = e.MoveNextAsync().AsTask(); // and X-Consul-Index 0 (which Consul never sends) is a reset too
        await ParkedAsync();
        _emulator.State.Faults.ForceIndexNext(1, 0, $"/v1/kv/{_ns}/tasks/");
        await r.PutTaskAsync(new TaskMeta { Name = "c", CronFormat = "@daily" });
        Assert.True(await next);
        Assert.Equal(TaskEventKind.Snapshot, e.Current.Kind);

        await r.PutTaskAsync(new TaskMeta { Name = "d", CronFormat = "@daily" }); // and then plain events again
        Assert.True(await e.MoveNextAsync());
        Assert.Equal((TaskEventKind.Put, "d"), (e.Current.Kind, e.Current.Name));
    }

    [Fact]
    public async Task A_watch_resumes_after_a_dropped_connection_with_a_snapshot()
    {
        var r = Registry();
        await using var e = r.WatchNodesAsync().GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        var next = e.MoveNextAsync().AsTask();
        await ParkedAsync();
        _emulator.State.Faults.DropNext(1, $"/v1/kv/{_ns}/nodes/", "GET"); // the query after the parked one is cut off
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromMinutes(5));
        Assert.True(await next);
        Assert.Equal((NodeEventKind.Upserted, "n1"), (e.Current.Kind, e.Current.NodeId));
        await r.RegisterNodeAsync(new Node { Id = "n2" }, TimeSpan.FromMinutes(5));
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(NodeEventKind.Snapshot, e.Current.Kind); // after the error: a fresh view, which may already hold n2
        if (e.Current.Nodes.Count == 1)
        {
            Assert.True(await e.MoveNextAsync());
            Assert.Equal((NodeEventKind.Upserted, "n2"), (e.Current.Kind, e.Current.NodeId));
        }
    }

    [Fact]
    public async Task A_watch_never_loops_hot_on_answers_that_change_nothing()
    {
        var r = Registry();
        var path = $"/v1/kv/{_ns}/nodes/";
        using var stop = new CancellationTokenSource();
        var events = 0;
        var first = new TaskCompletionSource();
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var _ in r.WatchNodesAsync(stop.Token))
                {
                    Interlocked.Increment(ref events);
                    first.TrySetResult();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        });
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await ParkedAsync();

        // The nodes prefix is empty, so its index is the whole store's: every write elsewhere answers the query.
        var before = _emulator.State.Requests(path);
        var writer = Registry();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 300; i++)
        {
            await writer.PutTaskAsync(new TaskMeta { Name = $"w{i}", CronFormat = "@daily" });
        }

        var idle = _emulator.State.Requests(path) - before;
        var elapsed = sw.ElapsedMilliseconds;

        // An agent that keeps answering X-Consul-Index 0 makes the watch back off instead of spinning.
        _emulator.State.Faults.ForceIndexNext(100_000, 0, path);
        before = _emulator.State.Requests(path);
        await writer.PutTaskAsync(new TaskMeta { Name = "wake", CronFormat = "@daily" });
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // an observation window, not a wait for a condition
        var zero = _emulator.State.Requests(path) - before;
        _emulator.State.Faults.Clear();
        await stop.CancelAsync();
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"watch requests: {idle} during 300 unrelated writes in {elapsed} ms; {zero} in 1.5 s of index-0 answers; {events} events");
        Assert.True(idle <= (elapsed / 50) + 2, $"{idle} idle queries in {elapsed} ms: at most one per 50 ms");
        Assert.True(zero < 40, $"{zero} queries in 1.5 s of index-0 answers");
    }

    [Fact]
    public async Task A_claim_whose_answer_was_lost_is_recognised_when_its_write_was_applied()
    {
        var r = Registry(requestTimeout: TimeSpan.FromSeconds(2));
        var fires = $"/v1/kv/{_ns}/fires/";
        _emulator.State.Faults.LoseAnswerNext(1, fires, "PUT");
        var claim = await r.CanRunTaskAsync("job", T0, "n1");
        Assert.True(claim.Granted);
        Assert.Equal(claim.FencingToken, (await r.GetFireStateAsync("job"))!.FencingToken);

        _emulator.State.Faults.DropNext(1, fires, "PUT"); // not applied: the failure surfaces
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => r.CanRunTaskAsync("job", T0.AddSeconds(1), "n1"));
        Assert.Equal(T0, (await r.GetFireStateAsync("job"))!.LastScheduledAt);
        Assert.True((await r.CanRunTaskAsync("job", T0.AddSeconds(1), "n2")).Granted);
    }

    private Task ParkedAsync() => Wait.UntilAsync(() => _emulator.State.BlockedQueries > 0, TimeSpan.FromSeconds(10), "the watch's blocking query is parked");

    private ConsulRegistry Registry(string? token = EmulatorTarget.Token, string? datacenter = null, TimeSpan? requestTimeout = null)
    {
        var r = new ConsulRegistry(new ConsulRegistryOptions
        {
            Address = _emulator.Address,
            Namespace = _ns,
            Token = token,
            Datacenter = datacenter,
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(1),
        });
        _owned.Add(r);
        return r;
    }
}
