using System.Text;
using System.Text.Json;
using DistributedCron.Registry.Consul.Tests.Infrastructure;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using DistributedCron.Testing.Consul;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>
/// Liveness from heartbeats: every heartbeat rewrites the node's key, and each registry instance drops a node whose key
/// has not changed for its TTL on its own monotonic clock, long before Consul reaps the session (2 × 10 s). The
/// emulator and the registries share one fake clock; each step waits until the watch has folded the step's write
/// (<see cref="RecordingConsulClient.FoldedIndex"/>), so nothing depends on real time.
/// </summary>
public sealed class NodeLivenessTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<IAsyncDisposable> _owned = new();
    private readonly string _ns = "nlt-" + Guid.NewGuid().ToString("N")[..8];
    private ConsulEmulatorServer _emulator = null!;

    public async Task InitializeAsync() => _emulator = await ConsulEmulatorServer.StartAsync(EmulatorTarget.EmulatorOptions(_clock));

    public async Task DisposeAsync()
    {
        foreach (var d in _owned.AsEnumerable().Reverse())
        {
            await d.DisposeAsync();
        }

        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task A_node_that_stops_heart_beating_leaves_after_its_ttl_while_its_session_still_holds_the_key()
    {
        var a = Registry();
        await a.RegisterNodeAsync(NewNode("alive"), Ttl);
        await a.RegisterNodeAsync(NewNode("dead"), Ttl);
        var (w, rec) = Watcher();
        var watch = await WatchAsync(w);
        Assert.Equal(["alive", "dead"], watch.View.Keys.Order(StringComparer.Ordinal));

        var start = _clock.GetTimestamp();
        while (_clock.GetElapsedTime(start) + Step <= Ttl)
        {
            await BeatAsync(a, "alive", rec); // "dead" stays silent
            Assert.True(watch.View.ContainsKey("dead"), $"dropped after {_clock.GetElapsedTime(start)}, within its TTL");
        }

        // The first fold past the TTL drops it (the step's heartbeat woke the watch).
        await BeatAsync(a, "alive", rec);
        await watch.WaitUntilAsync(v => !v.ContainsKey("dead"), EventTimeout, "the silent node leaves the watch");
        Assert.True(_clock.GetElapsedTime(start) <= Ttl + Step);
        Assert.NotNull(_emulator.State.Get(Key("dead"))?.Session); // Consul has not reaped the session (10 s × 2)
        Assert.Equal(["present"], watch.HistoryOf("alive").Select(n => n is null ? "absent" : "present"));
        Assert.Equal(NodeEventKind.Removed, watch.Events[^1].Kind);

        // Reads on the same instance apply the same rule; a fresh instance sees the key for the first time and
        // gives it a full TTL (no clock is shared between instances).
        Assert.Equal(["alive"], (await w.GetNodesAsync()).Select(n => n.Id));
        Assert.Equal(["alive", "dead"], (await Registry().GetNodesAsync()).Select(n => n.Id));
    }

    [Fact]
    public async Task The_blocking_wait_is_cut_to_the_next_silence_deadline_so_expiry_needs_no_other_write()
    {
        var a = Registry();
        await a.RegisterNodeAsync(NewNode("lonely"), TimeSpan.FromSeconds(3));
        var (w, rec) = Watcher();
        var watch = await WatchAsync(w);
        Assert.True(watch.View.ContainsKey("lonely"));
        await Wait.UntilAsync(() => _emulator.State.BlockedQueries > 0, EventTimeout, "the watch's query is parked");

        // 16/17 of the 3 s left, so that with Consul's jitter (up to wait/16) the answer comes by the deadline.
        var wait = rec.Waits[^1]!.Value;
        Assert.InRange(wait, TimeSpan.FromSeconds(2.8), TimeSpan.FromSeconds(3 * 16.0 / 17));

        _clock.Advance(TimeSpan.FromSeconds(3.2)); // no write at all: only the capped wait ends the query
        await watch.WaitUntilAsync(v => !v.ContainsKey("lonely"), EventTimeout, "the silent node leaves without any other write");
        Assert.NotNull(_emulator.State.Get(Key("lonely"))?.Session);

        // With no node left to time, the watch blocks for the full BlockingWait again.
        await Wait.UntilAsync(() => _emulator.State.BlockedQueries > 0 && rec.Waits[^1] == new ConsulRegistryOptions().BlockingWait,
            EventTimeout, "the next query waits the full BlockingWait");
    }

    [Fact]
    public void The_capped_wait_leaves_room_for_Consuls_jitter_and_never_spins()
    {
        var longest = TimeSpan.FromSeconds(60);
        Assert.Equal(TimeSpan.FromSeconds(16), ConsulRegistry.WaitUntilDeadline(TimeSpan.FromSeconds(17), longest));
        Assert.Equal(ConsulRegistry.MinIdleQueryInterval, ConsulRegistry.WaitUntilDeadline(TimeSpan.FromMilliseconds(10), longest));
        Assert.Equal(ConsulRegistry.MinIdleQueryInterval, ConsulRegistry.WaitUntilDeadline(TimeSpan.FromSeconds(-1), longest));
        Assert.Equal(longest, ConsulRegistry.WaitUntilDeadline(TimeSpan.FromMinutes(5), longest));
    }

    [Fact]
    public async Task A_heart_beating_node_never_leaves_and_its_heartbeats_emit_no_events()
    {
        var a = Registry();
        await a.RegisterNodeAsync(NewNode("steady", NodeStatus.Working), Ttl);
        var (w, rec) = Watcher();
        var watch = await WatchAsync(w);
        var indexes = new List<ulong>();
        var start = _clock.GetTimestamp();
        while (_clock.GetElapsedTime(start) < TimeSpan.FromSeconds(25)) // past Consul's 2 × 10 s session timer too
        {
            await BeatAsync(a, "steady", rec, TimeSpan.FromMilliseconds(500));
            indexes.Add(_emulator.State.Get(Key("steady"))!.ModifyIndex);
            Assert.Contains(await w.GetNodesAsync(), n => n.Id == "steady");
        }

        Assert.Equal(indexes.Count, indexes.Distinct().Count()); // every heartbeat rewrote the key
        Assert.Equal([NodeEventKind.Snapshot], watch.Events.Select(e => e.Kind)); // and none was emitted as a change

        await a.UpdateNodeStatusAsync("steady", NodeStatus.Leaving); // a real change still is
        await watch.WaitUntilAsync(v => v["steady"].Status == NodeStatus.Leaving, EventTimeout, "the status change");
        Assert.Equal([NodeEventKind.Snapshot, NodeEventKind.Upserted], watch.Events.Select(e => e.Kind));
    }

    [Fact]
    public async Task A_silent_node_comes_back_when_its_key_changes_and_its_own_late_heartbeat_asks_it_to_register_again()
    {
        var a = Registry();
        await a.RegisterNodeAsync(NewNode("phoenix"), Ttl);
        await a.RegisterNodeAsync(NewNode("clock"), TimeSpan.FromHours(1));
        var (w, rec) = Watcher();
        var watch = await WatchAsync(w);
        var start = _clock.GetTimestamp();
        while (_clock.GetElapsedTime(start) <= Ttl)
        {
            await BeatAsync(a, "clock", rec);
        }

        await watch.WaitUntilAsync(v => !v.ContainsKey("phoenix"), EventTimeout, "phoenix goes silent");

        // Its key changes again (a heartbeat through another instance, which adopts the session): it is back.
        var other = Registry();
        await other.HeartbeatAsync("phoenix");
        await watch.WaitUntilAsync(v => v.ContainsKey("phoenix"), EventTimeout, "phoenix comes back");

        // The registering instance last wrote the key more than a TTL ago: its heartbeat reports the registration as
        // expired (as Redis or etcd would), destroying the session, and registering again brings the node back.
        var ex = await Assert.ThrowsAsync<NodeNotFoundException>(() => a.HeartbeatAsync("phoenix"));
        Assert.Equal("phoenix", ex.NodeId);
        Assert.Null(_emulator.State.Get(Key("phoenix")));
        await watch.WaitUntilAsync(v => !v.ContainsKey("phoenix"), EventTimeout, "the expired registration is gone");
        await a.RegisterNodeAsync(NewNode("phoenix", NodeStatus.Working), Ttl);
        await a.HeartbeatAsync("phoenix");
        await watch.WaitUntilAsync(v => v.TryGetValue("phoenix", out var n) && n.Status == NodeStatus.Working, EventTimeout, "registered again");
        Assert.Equal(["present", "absent", "present", "absent", "present"], watch.HistoryOf("phoenix").Select(n => n is null ? "absent" : "present"));
    }

    [Fact]
    public async Task After_the_watch_was_cut_off_every_node_gets_a_full_ttl_again()
    {
        var a = Registry();
        await a.RegisterNodeAsync(NewNode("quiet"), Ttl);
        var (w, rec) = Watcher();
        var watch = await WatchAsync(w);
        _clock.Advance(TimeSpan.FromSeconds(1.5));

        // The query after the next answer is cut off: the watch retries with a fresh snapshot.
        _emulator.State.Faults.DropNext(1, $"/v1/kv/{_ns}/nodes/", "GET");
        await a.RegisterNodeAsync(NewNode("writer"), TimeSpan.FromHours(1));
        await Wait.UntilAsync(() => watch.Events.Count(e => e.Kind == NodeEventKind.Snapshot) == 2, EventTimeout, "the watch resumed with a snapshot");
        Assert.True(watch.View.ContainsKey("quiet"));

        // Past quiet's TTL from its registration, but not from the resumption: still there.
        _clock.Advance(TimeSpan.FromSeconds(1));
        await a.UpdateNodeStatusAsync("writer", NodeStatus.Working); // wakes the watch
        await Wait.UntilAsync(() => rec.FoldedIndex >= _emulator.State.Get(Key("writer"))!.ModifyIndex, EventTimeout, "the watch folded the write");
        Assert.True(watch.View.ContainsKey("quiet"));
        Assert.Contains(await w.GetNodesAsync(), n => n.Id == "quiet");

        // The emulator times a blocking wait from when the query arrives: let it arrive before the clock moves.
        await Wait.UntilAsync(() => _emulator.State.BlockedQueries > 0, EventTimeout, "the watch's query is parked");
        _clock.Advance(TimeSpan.FromSeconds(1.2)); // a full TTL after the resumption
        await watch.WaitUntilAsync(v => !v.ContainsKey("quiet"), EventTimeout, "quiet leaves a TTL after the resumption");
    }

    [Fact]
    public async Task The_node_key_records_the_requested_ttl_and_a_heartbeat_keeps_a_status_written_by_another_instance()
    {
        var a = Registry();
        await a.RegisterNodeAsync(NewNode("n1"), Ttl); // the session is raised to 10 s; the record keeps 2 s
        Assert.Equal("10s", _emulator.State.Session(_emulator.State.Get(Key("n1"))!.Session!)!.TTL);
        Assert.Equal((2000L, 0L), Fields(Key("n1")));
        await a.HeartbeatAsync("n1");
        await a.HeartbeatAsync("n1");
        Assert.Equal((2000L, 2L), Fields(Key("n1")));

        await Registry().UpdateNodeStatusAsync("n1", NodeStatus.Working); // another instance: a's cached index is stale
        await a.HeartbeatAsync("n1");
        var after = Decode(Key("n1"));
        Assert.Equal(NodeStatus.Working, after.Node.Status);
        Assert.Equal(4, after.Beat);
        Assert.Equal(Ttl, after.Ttl);

        // A record without the registry's fields (written by an earlier version) is live and never times out.
        var plain = new Node { Id = "legacy" };
        var old = new ConsulNodeRecord(plain, null, 0);
        Assert.Null(ConsulNodeRecord.Decode(new() { Key = "k", Value = Encoding.UTF8.GetBytes(RegistryJson.Serialize(plain)) }).Ttl);
        Assert.Equal(old, ConsulNodeRecord.Decode(new() { Key = "k", Value = old.Encode() }));
        Assert.Throws<RegistryException>(() => ConsulNodeRecord.Decode(new() { Key = "k", Value = Encoding.UTF8.GetBytes("{\"id\":\"x\",\"ttl_ms\":-1}") }));
    }

    /// <summary>One step: the clock moves, <paramref name="nodeId"/> heart-beats, and the watch has folded that write.</summary>
    private async Task BeatAsync(ConsulRegistry registry, string nodeId, RecordingConsulClient watcher, TimeSpan? step = null)
    {
        _clock.Advance(step ?? Step);
        await registry.HeartbeatAsync(nodeId);
        var index = _emulator.State.Get(Key(nodeId))!.ModifyIndex;
        await Wait.UntilAsync(() => watcher.FoldedIndex >= index, EventTimeout, $"the watch folded the heartbeat of {nodeId} (index {index})");
    }

    private (long TtlMs, long Beat) Fields(string key)
    {
        using var doc = JsonDocument.Parse(_emulator.State.Get(key)!.Value!);
        return (doc.RootElement.GetProperty("ttl_ms").GetInt64(), doc.RootElement.GetProperty("beat").GetInt64());
    }

    private ConsulNodeRecord Decode(string key) => ConsulNodeRecord.Decode(new() { Key = key, Value = _emulator.State.Get(key)!.Value });

    private string Key(string nodeId) => $"{_ns}/nodes/{nodeId}";

    private static Node NewNode(string id, NodeStatus status = NodeStatus.Starting) => new() { Id = id, Hostname = "host-" + id, Status = status };

    private ConsulRegistryOptions Options() => new()
    {
        Address = _emulator.Address,
        Namespace = _ns,
        Token = EmulatorTarget.Token,
        TimeProvider = _clock,
    };

    private ConsulRegistry Registry()
    {
        var r = new ConsulRegistry(Options());
        _owned.Add(r);
        return r;
    }

    /// <summary>A registry whose prefix reads are recorded; only its watch (and reads while that watch is parked) use it.</summary>
    private (ConsulRegistry Registry, RecordingConsulClient Recorder) Watcher()
    {
        var r = RecordingConsulClient.Registry(Options(), out var rec);
        _owned.Add(r);
        return (r, rec);
    }

    private async Task<NodeWatchFolder> WatchAsync(ConsulRegistry registry)
    {
        var folder = await NodeWatchFolder.StartAsync(registry, EventTimeout, default);
        _owned.Add(folder);
        return folder;
    }
}
