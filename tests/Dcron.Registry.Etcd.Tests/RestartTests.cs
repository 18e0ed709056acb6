using System.Diagnostics;
using DistributedCron.Registry.Etcd.Tests.Infrastructure;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>
/// A server of the test's own, stopped and started again: data and leases persist, watches resume from the next
/// revision (no snapshot needed), and a compacted or replaced history makes the watch re-read and emit a snapshot.
/// </summary>
public sealed class RestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(15);
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));
    private EtcdCluster _etcd = null!;

    private CancellationToken Ct => _deadline.Token;

    private ExternalServer Server => _etcd.Members[0].Server;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(1, ct: Ct);

    public async Task DisposeAsync()
    {
        await _etcd.DisposeAsync();
        _deadline.Dispose();
    }

    [Fact]
    public async Task After_a_restart_the_data_and_leases_are_there_and_open_watches_resume_without_a_snapshot()
    {
        await using var r = new EtcdRegistry(_etcd.Options("restart", TimeSpan.FromSeconds(3)));
        await r.RegisterNodeAsync(new Node { Id = "n1", Status = NodeStatus.Working }, TimeSpan.FromSeconds(30), Ct);
        await r.AddTaskAsync(new TaskMeta { Name = "keep", CronFormat = "@every 1s", Payload = "ü" }, Ct);
        await r.MarkTaskDeletedAsync("gone", Ct);
        Assert.True((await r.CanRunTaskAsync("keep", T0, "n1", Ct)).Granted);
        await using var tasks = await TaskWatchFolder.StartAsync(r, EventTimeout, Ct);
        await using var nodes = await NodeWatchFolder.StartAsync(r, EventTimeout, Ct);

        await Server.StopAsync();
        var down = await Assert.ThrowsAsync<RegistryUnavailableException>(() => r.GetTasksAsync(Ct));
        output.WriteLine($"while stopped: {down.Message}");
        var sw = Stopwatch.StartNew();
        await Server.StartAsync(Ct);
        output.WriteLine($"etcd restarted in {sw.Elapsed.TotalMilliseconds:0} ms");

        await r.PutTaskAsync(new TaskMeta { Name = "after-restart", CronFormat = "@every 2s" }, Ct);
        await r.UpdateNodeStatusAsync("n1", NodeStatus.Leaving, Ct);
        await tasks.WaitUntilAsync(v => v.ContainsKey("after-restart"), EventTimeout, "the task watch resumed after the restart", Ct);
        await nodes.WaitUntilAsync(v => v.TryGetValue("n1", out var n) && n.Status == NodeStatus.Leaving, EventTimeout, "the node watch resumed", Ct);
        Assert.Equal(1, tasks.Events.Count(e => e.Kind == TaskEventKind.Snapshot));
        Assert.Equal(1, nodes.Events.Count(e => e.Kind == NodeEventKind.Snapshot));

        Assert.Equal("ü", (await r.GetTasksAsync(Ct))["keep"].Payload);
        Assert.Contains("gone", await r.GetDeletedTaskNamesAsync(Ct));
        Assert.Equal(1, (await r.GetFireStateAsync("keep", Ct))!.FencingToken);
        await r.HeartbeatAsync("n1", Ct); // the lease survived the restart
        Assert.False((await r.CanRunTaskAsync("keep", T0, "n2", Ct)).Granted);
    }

    [Fact]
    public async Task A_watch_that_resumes_into_a_compacted_history_re_reads_and_emits_a_snapshot()
    {
        await using var r = new EtcdRegistry(_etcd.Options("compact", TimeSpan.FromSeconds(3)));
        await r.PutTaskAsync(new TaskMeta { Name = "before", CronFormat = "@every 1s" }, Ct);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        r.BeforeWatchReconnect = async ct =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(ct);
        };
        await using var tasks = await TaskWatchFolder.StartAsync(r, EventTimeout, Ct);

        await Server.StopAsync(); // breaks the stream; the watch now waits in the hook before reconnecting
        var reached = await Task.WhenAny(entered.Task, tasks.Completion, Task.Delay(EventTimeout, Ct));
        Assert.True(reached == entered.Task, $"the watch did not try to reconnect; it ended with: {tasks.EndException}");
        await Server.StartAsync(Ct);
        await using (var writer = new EtcdRegistry(_etcd.Options("compact")))
        {
            await writer.PutTaskAsync(new TaskMeta { Name = "during-gap", CronFormat = "@every 1s" }, Ct);
            await writer.ForceCleanupTaskAsync("before", Ct);
        }

        using (var admin = new EtcdAdmin(_etcd.Endpoints[0]))
        {
            await admin.CompactAsync(await admin.RevisionAsync(Ct), Ct);
        }

        release.SetResult();
        await tasks.WaitUntilAsync(v => v.ContainsKey("during-gap") && !v.ContainsKey("before"), EventTimeout, "the re-read after compaction", Ct);
        Assert.Equal(2, tasks.Events.Count(e => e.Kind == TaskEventKind.Snapshot));

        await r.PutTaskAsync(new TaskMeta { Name = "later", CronFormat = "@every 1s" }, Ct);
        await tasks.WaitUntilAsync(v => v.ContainsKey("later"), EventTimeout, "events after the re-read", Ct);
    }

    [Fact]
    public async Task A_server_whose_data_was_replaced_is_re_read_instead_of_waited_for()
    {
        await using var r = new EtcdRegistry(_etcd.Options("wiped", TimeSpan.FromSeconds(3)));
        for (var i = 0; i < 20; i++)
        {
            await r.PutTaskAsync(new TaskMeta { Name = "old", CronFormat = "@every 1s", Payload = i.ToString() }, Ct); // history the new server lacks
        }

        await using var tasks = await TaskWatchFolder.StartAsync(r, EventTimeout, Ct);
        await Server.StopAsync();
        Directory.Delete(Path.Combine(Server.WorkDir, "data"), recursive: true);
        await Server.StartAsync(Ct);
        await r.PutTaskAsync(new TaskMeta { Name = "fresh", CronFormat = "@every 1s" }, Ct);
        await tasks.WaitUntilAsync(v => v.ContainsKey("fresh") && !v.ContainsKey("old"), EventTimeout, "a snapshot of the new server's data", Ct);
    }
}
