using DistributedCron.Testing.Conformance;
using StackExchange.Redis;
using Xunit;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>
/// How the pub/sub-plus-revision watch recovers from what pub/sub alone would lose: a notification that never
/// arrives, a killed subscription connection, and a server that lost its data. Each test has its own server.
/// </summary>
public sealed class RedisWatchResilienceTests : IAsyncLifetime
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(10);
    private readonly string _ns = "res-" + Guid.NewGuid().ToString("N")[..8];
    private RedisServer _server = null!;
    private ConnectionMultiplexer _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync("resilience");
        var o = _server.Options();
        o.AllowAdmin = true;
        _admin = await ConnectionMultiplexer.ConnectAsync(o);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_change_whose_notification_never_arrived_is_delivered_by_a_snapshot()
    {
        await using var r = await _server.CreateRegistryAsync(_ns);
        await using var tasks = await TaskWatchFolder.StartAsync(r, EventTimeout, default);

        // Write the way the scripts do, but without publishing: exactly what a lost message looks like.
        var db = _admin.GetDatabase();
        await db.HashSetAsync("{" + _ns + "}:tasks", "silent", RegistryJson.Serialize(new TaskMeta { Name = "silent", CronFormat = "* * * * *" }));
        await db.StringIncrementAsync("{" + _ns + "}:tasks:rev");

        await tasks.WaitUntilAsync(v => v.ContainsKey("silent"), EventTimeout, "the periodic revision check finds the unannounced change");
        Assert.Contains(tasks.Events.Skip(1), e => e.Kind == TaskEventKind.Snapshot);

        await r.PutTaskAsync(new TaskMeta { Name = "after", CronFormat = "* * * * *" });
        await tasks.WaitUntilAsync(v => v.ContainsKey("after"), EventTimeout, "ordinary events flow again");
    }

    [Fact]
    public async Task Changes_made_while_the_subscription_connection_was_killed_are_not_lost()
    {
        await using var r = await _server.CreateRegistryAsync(_ns);
        await using var writer = await _server.CreateRegistryAsync(_ns);
        await using var nodes = await NodeWatchFolder.StartAsync(r, EventTimeout, default);
        await using var tasks = await TaskWatchFolder.StartAsync(r, EventTimeout, default);

        await _admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await writer.PutTaskAsync(new TaskMeta { Name = "during", CronFormat = "* * * * *" });
        await writer.RegisterNodeAsync(new Node { Id = "during" }, TimeSpan.FromMinutes(1));

        await tasks.WaitUntilAsync(v => v.ContainsKey("during"), EventTimeout, "the task written while unsubscribed");
        await nodes.WaitUntilAsync(v => v.ContainsKey("during"), EventTimeout, "the node registered while unsubscribed");
        await writer.UnregisterNodeAsync("during");
        await nodes.WaitUntilAsync(v => !v.ContainsKey("during"), EventTimeout, "events after the resubscription");
    }

    [Fact]
    public async Task A_server_that_lost_its_data_makes_the_watch_replace_its_view()
    {
        await using var r = await _server.CreateRegistryAsync(_ns);
        await r.PutTaskAsync(new TaskMeta { Name = "gone", CronFormat = "* * * * *" });
        await r.RegisterNodeAsync(new Node { Id = "gone" }, TimeSpan.FromMinutes(1));
        await using var nodes = await NodeWatchFolder.StartAsync(r, EventTimeout, default);
        await using var tasks = await TaskWatchFolder.StartAsync(r, EventTimeout, default);
        Assert.True(tasks.View.ContainsKey("gone") && nodes.View.ContainsKey("gone"));

        // As after a restart without persistence: the revision counters start again below what the watch saw.
        await _admin.GetServer(_server.Endpoint).FlushAllDatabasesAsync();
        await tasks.WaitUntilAsync(v => v.Count == 0, EventTimeout, "the task view is replaced by the empty server state");
        await nodes.WaitUntilAsync(v => v.Count == 0, EventTimeout, "the node view is replaced by the empty server state");
    }

    [Fact]
    public async Task Every_key_lives_under_the_namespace_hash_tag()
    {
        await using var r = await _server.CreateRegistryAsync(_ns);
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromMinutes(1));
        await r.PutTaskAsync(new TaskMeta { Name = "a", CronFormat = "* * * * *" });
        await r.MarkTaskDeletedAsync("b");
        var claim = await r.CanRunTaskAsync("a", DateTimeOffset.UtcNow, "n1");
        await r.CompleteFireAsync(claim, new FireOutcome { Status = FireStatus.Succeeded });

        var keys = _admin.GetServer(_server.Endpoint).Keys(pattern: "*").Select(k => (string)k!).Order(StringComparer.Ordinal).ToArray();
        var p = "{" + _ns + "}:";
        Assert.Equal(
            new[] { "fires", "nodes", "nodes:expiry", "nodes:rev", "nodes:ttl", "outcomes", "tasks", "tasks:rev", "tombstones" }.Select(k => p + k),
            keys);
        Assert.Equal(_admin.HashSlot(p + "nodes"), _admin.HashSlot(p + "fires"));
    }

    [Fact]
    public async Task A_corrupt_record_fails_loudly_with_RegistryException_and_never_reads_as_empty()
    {
        await using var r = await _server.CreateRegistryAsync(_ns);
        var db = _admin.GetDatabase();
        await db.HashSetAsync("{" + _ns + "}:fires", "bad", "not-a-state");
        await db.HashSetAsync("{" + _ns + "}:tasks", "bad", "{not json");

        var claim = await Assert.ThrowsAsync<RegistryException>(() => r.CanRunTaskAsync("bad", DateTimeOffset.UtcNow, "n1"));
        Assert.Contains("bad", claim.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RegistryException>(() => r.GetFireStatesAsync());
        await Assert.ThrowsAsync<RegistryException>(() => r.GetTasksAsync());
    }
}
