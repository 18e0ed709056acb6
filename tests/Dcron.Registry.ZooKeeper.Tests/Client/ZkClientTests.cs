using System.Collections.Concurrent;
using DistributedCron.Registry.ZooKeeper.Client;
using DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests.Client;

/// <summary>The internal protocol client against a real ZooKeeper 3.8.</summary>
public sealed class ZkClientTests(SharedTarget<ZooKeeperTarget> shared) : IClassFixture<SharedTarget<ZooKeeperTarget>>, IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(1));
    private readonly List<ZkClient> _clients = new();
    private readonly string _root = "/zkc-" + Guid.NewGuid().ToString("N")[..10];

    private ZooKeeperTarget Target => shared.Target;

    private CancellationToken Ct => _cts.Token;

    public async Task InitializeAsync()
    {
        var c = Client();
        await c.CreateAsync(_root, null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct);
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _clients)
        {
            await c.DisposeAsync();
        }

        _cts.Dispose();
    }

    [Fact]
    public async Task Create_read_write_delete_round_trip_with_versions()
    {
        var c = Client();
        var path = _root + "/a";
        Assert.Equal(path, await c.CreateAsync(path, "v1"u8.ToArray(), ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct));
        var (data, stat) = (await c.GetDataAsync(path, false, Ct))!.Value;
        Assert.Equal("v1"u8.ToArray(), data);
        Assert.Equal(0, stat.Version);

        var stat2 = await c.SetDataAsync(path, "v2"u8.ToArray(), 0, Ct);
        Assert.Equal(1, stat2.Version);
        var stale = await Assert.ThrowsAsync<ZkErrorException>(() => c.SetDataAsync(path, "v3"u8.ToArray(), 0, Ct));
        Assert.Equal(ZkError.BadVersion, stale.Code);
        Assert.Contains(path, stale.Message, StringComparison.Ordinal);

        var dup = await Assert.ThrowsAsync<ZkErrorException>(() => c.CreateAsync(path, null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct));
        Assert.Equal(ZkError.NodeExists, dup.Code);

        Assert.Equal(["a"], await c.GetChildrenAsync(_root, false, Ct));
        await c.DeleteAsync(path, 1, Ct);
        Assert.Null(await c.ExistsAsync(path, false, Ct));
        Assert.Null(await c.GetDataAsync(path, false, Ct));
        Assert.Null(await c.GetChildrenAsync(path, false, Ct));
        var gone = await Assert.ThrowsAsync<ZkErrorException>(() => c.DeleteAsync(path, -1, Ct));
        Assert.Equal(ZkError.NoNode, gone.Code);
    }

    [Fact]
    public async Task Sequential_and_ephemeral_modes()
    {
        var c = Client();
        var s1 = await c.CreateAsync(_root + "/s-", null, ZkAcl.OpenUnsafe, ZkCreateMode.PersistentSequential, Ct);
        var s2 = await c.CreateAsync(_root + "/s-", null, ZkAcl.OpenUnsafe, ZkCreateMode.EphemeralSequential, Ct);
        Assert.Matches(@"/s-\d{10}$", s1);
        Assert.True(string.CompareOrdinal(s1, s2) < 0);

        var e = await c.CreateAsync(_root + "/e", null, ZkAcl.OpenUnsafe, ZkCreateMode.Ephemeral, Ct);
        var stat = await c.ExistsAsync(e, false, Ct);
        Assert.Equal(c.SessionId, stat!.EphemeralOwner);
        Assert.Equal(c.SessionId, (await c.ExistsAsync(s2, false, Ct))!.EphemeralOwner);
        Assert.Equal(0, (await c.ExistsAsync(s1, false, Ct))!.EphemeralOwner);

        // closeSession removes the ephemerals at once
        var observer = Client();
        await c.DisposeAsync();
        Assert.Null(await observer.ExistsAsync(e, false, Ct));
        Assert.Null(await observer.ExistsAsync(s2, false, Ct));
        Assert.NotNull(await observer.ExistsAsync(s1, false, Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => c.ExistsAsync(e, false, Ct));
    }

    [Fact]
    public async Task Data_and_child_watches_fire_once_and_are_fanned_out()
    {
        var watcher = Client();
        var writer = Client();
        var events = new ConcurrentQueue<ZkWatchEvent>();
        watcher.WatchTriggered += events.Enqueue;
        var path = _root + "/w";
        await writer.CreateAsync(path, null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct);

        await watcher.GetDataAsync(path, true, Ct);
        await watcher.GetChildrenAsync(path, true, Ct);
        await writer.SetDataAsync(path, "x"u8.ToArray(), -1, Ct);
        await writer.CreateAsync(path + "/c", null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct);
        await Wait.UntilAsync(() => events.Count >= 2, Deadline, "data and child events");
        Assert.Contains(new ZkWatchEvent(ZkEventType.NodeDataChanged, 3, path), events);
        Assert.Contains(new ZkWatchEvent(ZkEventType.NodeChildrenChanged, 3, path), events);

        // one-shot: a second change without re-arming fires nothing; exists on an absent node arms NodeCreated
        await writer.SetDataAsync(path, "y"u8.ToArray(), -1, Ct);
        Assert.Null(await watcher.ExistsAsync(path + "/later", true, Ct));
        await writer.CreateAsync(path + "/later", null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct);
        await Wait.UntilAsync(() => events.Any(e => e.Type == ZkEventType.NodeCreated), Deadline, "NodeCreated");
        Assert.Equal(3, events.Count);
    }

    [Fact]
    public async Task Multi_is_all_or_nothing_and_names_the_failing_op()
    {
        var c = Client();
        var a = _root + "/ma";
        var results = await c.MultiAsync(
        [
            new ZkMultiOp.Create(a, "1"u8.ToArray(), ZkAcl.OpenUnsafe, ZkCreateMode.Persistent),
            new ZkMultiOp.SetData(a, "2"u8.ToArray(), 0),
            new ZkMultiOp.Check(a, 1),
        ], Ct);
        Assert.Equal(3, results.Count);
        Assert.Equal(1, results[1].Stat!.Version);

        var ex = await Assert.ThrowsAsync<ZkErrorException>(() => c.MultiAsync(
        [
            new ZkMultiOp.Create(_root + "/mb", null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent),
            new ZkMultiOp.Check(a, 7),
            new ZkMultiOp.SetData(a, "3"u8.ToArray(), -1),
        ], Ct));
        Assert.Equal(ZkError.BadVersion, ex.Code);
        Assert.Equal(1, ex.FailedOpIndex);
        Assert.Null(await c.ExistsAsync(_root + "/mb", false, Ct));
        Assert.Equal("2"u8.ToArray(), (await c.GetDataAsync(a, false, Ct))!.Value.Data);
    }

    [Fact]
    public async Task A_lost_connection_reattaches_the_same_session_and_keeps_ephemerals()
    {
        var c = Client();
        var states = new ConcurrentQueue<ZkSessionState>();
        c.SessionStateChanged += states.Enqueue;
        var e = await c.CreateAsync(_root + "/keep", null, ZkAcl.OpenUnsafe, ZkCreateMode.Ephemeral, Ct);
        var session = c.SessionId;
        var generation = c.ConnectionGeneration;

        c.DropConnection();
        var stat = await c.ExistsAsync(e, false, Ct); // retried on the new connection
        Assert.Equal(session, c.SessionId);
        Assert.Equal(session, stat!.EphemeralOwner);
        Assert.True(c.ConnectionGeneration > generation);
        await Wait.UntilAsync(() => states.Contains(ZkSessionState.Reconnected), Deadline, "Reconnected");
        Assert.DoesNotContain(ZkSessionState.Expired, states);
    }

    [Fact]
    public async Task An_expired_session_is_reported_and_replaced()
    {
        var c = Client();
        var states = new ConcurrentQueue<ZkSessionState>();
        c.SessionStateChanged += states.Enqueue;
        var e = await c.CreateAsync(_root + "/eph", null, ZkAcl.OpenUnsafe, ZkCreateMode.Ephemeral, Ct);
        var old = c.SessionId;

        await Sessions.KillAsync(c, Target.ConnectString, Ct);
        await Wait.UntilAsync(() => states.Contains(ZkSessionState.Expired), Deadline, "Expired");
        await Wait.UntilAsync(() => c.SessionId != 0 && c.SessionId != old, Deadline, "a new session");
        Assert.Null(await c.ExistsAsync(e, false, Ct));
        var seen = states.ToArray();
        Assert.Equal(ZkSessionState.Connected, seen[0]);
        Assert.Equal(ZkSessionState.Connected, seen[^1]);
        Assert.Contains(ZkSessionState.Expired, seen[1..^1]);
    }

    [Fact]
    public async Task A_session_that_does_not_renew_fails_every_call_after_expiry()
    {
        var c = Client(autoPing: false, renew: false, timeout: TimeSpan.FromSeconds(1));
        var e = await c.CreateAsync(_root + "/node", null, ZkAcl.OpenUnsafe, ZkCreateMode.Ephemeral, Ct);
        Assert.Equal(TimeSpan.FromSeconds(1), c.NegotiatedTimeout);

        // Nobody sends anything: the server expires the session (1 s + at most one tick) and deletes the znode.
        var observer = Client();
        await Wait.UntilAsync(async () => await observer.ExistsAsync(e, false, Ct) is null, Deadline, "the ephemeral of a silent session to expire");
        await Wait.UntilAsync(() => c.IsExpired, Deadline, "the client to learn of the expiry");
        await Assert.ThrowsAsync<ZkSessionExpiredException>(() => c.ExistsAsync(e, false, Ct));
    }

    [Fact]
    public async Task Pings_keep_an_idle_session_alive()
    {
        var c = Client(timeout: TimeSpan.FromSeconds(1));
        var e = await c.CreateAsync(_root + "/alive", null, ZkAcl.OpenUnsafe, ZkCreateMode.Ephemeral, Ct);
        var session = c.SessionId;
        await Task.Delay(TimeSpan.FromSeconds(3), Ct); // idle for three session timeouts: only pings flow
        var observer = Client();
        Assert.Equal(session, (await observer.ExistsAsync(e, false, Ct))!.EphemeralOwner);
    }

    [Fact]
    public async Task Digest_acl_refuses_other_identities()
    {
        var alice = Client(user: "alice", password: "secret");
        var path = _root + "/acl";
        await alice.CreateAsync(path, "mine"u8.ToArray(), [new ZkAcl(ZkAcl.All, "digest", ZkAcl.DigestId("alice", "secret"))], ZkCreateMode.Persistent, Ct);
        Assert.Equal("mine"u8.ToArray(), (await alice.GetDataAsync(path, false, Ct))!.Value.Data);

        foreach (var other in new[] { Client(), Client(user: "bob", password: "pw"), Client(user: "alice", password: "wrong") })
        {
            var read = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => other.GetDataAsync(path, false, Ct));
            Assert.Contains("NOAUTH", read.Message, StringComparison.Ordinal);
            Assert.Contains(path, read.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<RegistryAuthenticationException>(() => other.SetDataAsync(path, "theirs"u8.ToArray(), -1, Ct));
            await Assert.ThrowsAsync<RegistryAuthenticationException>(() => other.CreateAsync(path + "/x", null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct));
        }

        // the credentials survive a reconnect (auth belongs to the connection: the client re-sends it)
        alice.DropConnection();
        await alice.SetDataAsync(path, "still mine"u8.ToArray(), -1, Ct);
    }

    [Fact]
    public async Task An_unreachable_server_fails_calls_within_the_request_timeout_naming_it()
    {
        var port = FreePort.Next();
        var c = new ZkClient(new ZkClientOptions
        {
            Servers = [new ZkServerAddress("127.0.0.1", port)],
            RequestTimeout = TimeSpan.FromMilliseconds(800),
        });
        _clients.Add(c);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<ZkConnectionLossException>(() => c.ExistsAsync("/", false, Ct));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<RegistryUnavailableException>(ex);
    }

    private ZkClient Client(bool autoPing = true, bool renew = true, TimeSpan? timeout = null, string? user = null, string? password = null)
    {
        var c = new ZkClient(new ZkClientOptions
        {
            Servers = ZkConnectString.Parse(Target.ConnectString).Servers,
            SessionTimeout = timeout ?? TimeSpan.FromSeconds(4),
            RequestTimeout = TimeSpan.FromSeconds(5),
            AutoPing = autoPing,
            RenewExpiredSession = renew,
            Auth = user is null ? [] : [("digest", System.Text.Encoding.UTF8.GetBytes(user + ":" + password))],
            Identity = user is null ? "anonymous" : $"digest user '{user}'",
        }, TestLog.For<ZkClient>());
        _clients.Add(c);
        return c;
    }
}
