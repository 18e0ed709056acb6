using Xunit;

namespace DistributedCron.Tests.Engine;

/// <summary>Dynamic tasks (stored in the registry), tombstones, reuse and cleanup across running nodes.</summary>
public sealed class DynamicTaskTests
{
    private static void Handle(FakeCluster cluster, DcronOptions o) =>
        o.DynamicTaskHandler = (meta, ctx) =>
        {
            Assert.Equal(meta.Payload, ctx.Payload);
            return cluster.Recorder()(ctx);
        };

    [Fact]
    public async Task ADynamicTaskAddedWhileAllNodesRunIsPickedUpEverywhere()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 3).Select(i => cluster.AddNode($"node-{i}", o => Handle(cluster, o))).ToArray();
        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(3));

        var addedAt = cluster.Now;
        await nodes[1].Dcron.AddTaskMetaAsync(new TaskMeta { Name = "sync", CronFormat = "* * * * * *", Payload = "{\"x\":\"é\"}" });
        await cluster.StepAsync(TimeSpan.FromSeconds(20));

        Assert.All(nodes, n => Assert.Contains("sync", n.Dcron.GetAllTasks()));
        Assert.Single(nodes, n => n.Dcron.GetAssignedTasks().Contains("sync"));
        Assert.DoesNotContain(cluster.Runs, r => r.ScheduledAt < addedAt);
        cluster.AssertExactlyOnce(new Dictionary<string, string> { ["sync"] = "* * * * * *" }, addedAt + TimeSpan.FromSeconds(1), cluster.Now - TimeSpan.FromSeconds(1));

        // The name check is atomic in the registry, whichever node asks.
        await Assert.ThrowsAsync<TaskExistsException>(() => nodes[2].Dcron.AddTaskMetaAsync(new TaskMeta { Name = "sync", CronFormat = "@every 5s" }));
    }

    [Fact]
    public async Task ATombstoneStopsATaskEverywhereAndReuseResumesItWithoutCatchingUpTheGap()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 3).Select(i => cluster.AddNode($"node-{i}", o => Handle(cluster, o))).ToArray();
        await cluster.StartAllAsync();
        await nodes[0].Dcron.AddTaskMetaAsync(new TaskMeta { Name = "report", CronFormat = "* * * * * *" });
        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        Assert.NotEmpty(cluster.Runs);

        await nodes[2].Dcron.MarkTaskDeletedAsync("report");
        var deletedAt = cluster.Now;
        await cluster.StepAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(cluster.Runs, r => r.ScheduledAt > deletedAt + TimeSpan.FromSeconds(1));
        Assert.All(nodes, n => Assert.DoesNotContain("report", n.Dcron.GetAllTasks()));
        await Assert.ThrowsAsync<TaskDeletedException>(() => nodes[1].Dcron.AddTaskMetaAsync(new TaskMeta { Name = "report", CronFormat = "* * * * * *" }));

        await nodes[1].Dcron.ReuseDeletedTaskAsync("report");
        var reusedAt = cluster.Now;
        await cluster.StepAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(cluster.Runs, r => r.ScheduledAt > deletedAt + TimeSpan.FromSeconds(1) && r.ScheduledAt <= reusedAt);
        cluster.AssertExactlyOnce(new Dictionary<string, string> { ["report"] = "* * * * * *" }, reusedAt + TimeSpan.FromSeconds(1), cluster.Now - TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<TaskNotFoundException>(() => nodes[1].Dcron.ReuseDeletedTaskAsync("report"));
    }

    [Fact]
    public async Task CleanupErasesTheTaskAndForceAddReplacesIt()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 2).Select(i => cluster.AddNode($"node-{i}", o => Handle(cluster, o))).ToArray();
        await cluster.StartAllAsync();
        await nodes[0].Dcron.AddTaskMetaAsync(new TaskMeta { Name = "job", CronFormat = "*/2 * * * * *", Payload = "v1" });
        await cluster.StepAsync(TimeSpan.FromSeconds(4));

        await nodes[1].Dcron.ForceAddTaskMetaAsync(new TaskMeta { Name = "job", CronFormat = "* * * * * *", Payload = "v2" });
        var replacedAt = cluster.Now;
        await cluster.StepAsync(TimeSpan.FromSeconds(6));
        Assert.All(nodes, n => Assert.Contains("job", n.Dcron.GetAllTasks()));
        Assert.Equal("v2", (await cluster.Observer.GetTasksAsync())["job"].Payload);
        cluster.AssertExactlyOnce(new Dictionary<string, string> { ["job"] = "* * * * * *" }, replacedAt + TimeSpan.FromSeconds(1), cluster.Now - TimeSpan.FromSeconds(1));

        await nodes[0].Dcron.CleanupTaskAsync("job");
        var cleanedAt = cluster.Now;
        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        Assert.All(nodes, n => Assert.DoesNotContain("job", n.Dcron.GetAllTasks()));
        Assert.Null(await cluster.Observer.GetFireStateAsync("job"));
        Assert.DoesNotContain(cluster.Runs, r => r.ScheduledAt > cleanedAt + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task ADynamicTaskWithoutAHandlerFailsLoudly()
    {
        await using var cluster = new FakeCluster();
        var errors = new List<TaskErrorContext>();
        var node = cluster.AddNode("lonely", o => o.ErrorHandler = e =>
        {
            lock (errors)
            {
                errors.Add(e);
            }
        });
        await cluster.StartAllAsync();
        await node.Dcron.AddTaskMetaAsync(new TaskMeta { Name = "orphan", CronFormat = "* * * * * *", OneShot = true });
        await cluster.StepAsync(TimeSpan.FromSeconds(3));

        var failed = cluster.Settled.Where(e => e.TaskName == "orphan").ToArray();
        Assert.NotEmpty(failed);
        Assert.All(failed, e => Assert.Equal(FireResult.Failed, e.Result));
        Assert.Contains("DynamicTaskHandler", failed[0].Error);
        lock (errors)
        {
            Assert.Contains(errors, e => e.Stage == TaskErrorStage.Handler && e.Task.Name == "orphan");
        }

        // Not "success" as in the Go library: the one-shot was not tombstoned, so it can still run once a handler exists.
        Assert.DoesNotContain("orphan", await cluster.Observer.GetDeletedTaskNamesAsync());
        var state = await cluster.Observer.GetFireStateAsync("orphan");
        Assert.Equal(FireStatus.Failed, state!.LastOutcome!.Status);
    }

    [Fact]
    public async Task ExecutedAndCleanupErasesTheTaskAfterItsRun()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 3).Select(i => cluster.AddNode($"node-{i}", o => Handle(cluster, o))).ToArray();
        await cluster.StartAllAsync();
        await nodes[0].Dcron.AddTaskMetaAsync(new TaskMeta { Name = "once-and-gone", CronFormat = "*/3 * * * * *", ExecutedAndCleanup = true });
        await cluster.StepAsync(TimeSpan.FromSeconds(12));

        Assert.Single(cluster.Runs, r => r.Task == "once-and-gone");
        Assert.All(nodes, n => Assert.DoesNotContain("once-and-gone", n.Dcron.GetAllTasks()));
        Assert.False((await cluster.Observer.GetTasksAsync()).ContainsKey("once-and-gone"));
        Assert.DoesNotContain("once-and-gone", await cluster.Observer.GetDeletedTaskNamesAsync());
    }
}
