using Xunit;
namespace DistributedCron.Tests.Engine;

/// <summary>The fire protocol across several nodes on one registry: exactly once, failover, skew, faults, scale.</summary>
public sealed class ClusterTests
{
    private static readonly Dictionary<string, string> Mixed = new()
    {
        ["every-second"] = "* * * * * *",
        ["every-2s"] = "*/2 * * * * *",
        ["every-3s"] = "@every 3s",
        ["every-5s"] = "*/5 * * * * *",
        ["at-7-and-37"] = "7,37 * * * * *",
        ["every-4s-offset"] = "1/4 * * * * *",
        ["every-10s"] = "@every 10s",
        ["every-minute"] = "* * * * *",
        ["every-second-b"] = "* * * * * *",
        ["every-6s"] = "*/6 * * * * *",
    };

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task EveryOccurrenceOfEveryTaskRunsExactlyOnce(int nodeCount)
    {
        await using var cluster = new FakeCluster();
        for (var i = 0; i < nodeCount; i++)
        {
            cluster.AddNode($"node-{i}");
        }

        foreach (var (name, cron) in Mixed)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        var from = cluster.Now + TimeSpan.FromSeconds(1);
        await cluster.StepAsync(TimeSpan.FromSeconds(90));
        cluster.AssertExactlyOnce(Mixed, from, cluster.Now - TimeSpan.FromSeconds(1));

        // Every node got a share, and the shares are disjoint.
        var owned = cluster.Nodes.Select(n => n.Dcron.GetAssignedTasks()).ToArray();
        Assert.Equal(Mixed.Count, owned.Sum(o => o.Count));
        Assert.Equal(Mixed.Count, owned.SelectMany(o => o).Distinct().Count());
        Assert.DoesNotContain(cluster.Settled, e => e.Result == FireResult.Missed);
    }

    [Fact]
    public async Task ADeadNodesTasksMoveAndItsMissedFiresAreCaughtUp()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 3).Select(i => cluster.AddNode($"node-{i}")).ToArray();
        var tasks = Enumerable.Range(0, 12).ToDictionary(i => $"t{i:D2}", _ => "* * * * * *");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        var from = cluster.Now + TimeSpan.FromSeconds(1);
        await cluster.StepAsync(TimeSpan.FromSeconds(10));

        var victim = nodes[1];
        var victimTasks = victim.Dcron.GetAssignedTasks();
        Assert.NotEmpty(victimTasks);
        var killedAt = cluster.Now;
        victim.Registry.Partition();

        await cluster.StepAsync(TimeSpan.FromSeconds(15));
        var to = cluster.Now - TimeSpan.FromSeconds(1);

        // The victim's tasks now belong to the survivors; the victim, fenced, owns nothing.
        Assert.Empty(victim.Dcron.GetAssignedTasks());
        var survivors = nodes.Where(n => n != victim).SelectMany(n => n.Dcron.GetAssignedTasks()).ToHashSet();
        Assert.True(victimTasks.All(survivors.Contains), "every task of the dead node moved to a survivor");

        // Nothing ran on the victim after it was cut off, and nothing is missing or doubled.
        Assert.DoesNotContain(cluster.Runs, r => r.NodeId == victim.Id && r.ScheduledAt > killedAt + TimeSpan.FromSeconds(1));
        cluster.AssertExactlyOnce(tasks, from, to);

        // The gap was filled by catch-up runs, the first within NodeTtl + one heartbeat + one sweep of the kill.
        var catchUps = cluster.Runs.Where(r => r.IsCatchUp && victimTasks.Contains(r.Task)).ToArray();
        Assert.NotEmpty(catchUps);
        var firstCatchUp = cluster.Settled.Where(e => e.IsCatchUp && e.Ran && e.ScheduledAt + e.Lag > killedAt).Min(e => e.ScheduledAt + e.Lag);
        Assert.True(firstCatchUp - killedAt <= TimeSpan.FromSeconds(3 + 1 + 2), $"failover took {firstCatchUp - killedAt}");
    }

    [Fact]
    public async Task ClockOffsetsOfThreeSecondsNeverCauseADuplicate()
    {
        await using var cluster = new FakeCluster();
        var offsets = new[] { -3.0, -1.5, 0, 1.5, 3.0 };
        var nodes = offsets.Select((o, i) => cluster.AddNode($"node-{i}", clockOffset: TimeSpan.FromSeconds(o))).ToArray();
        var tasks = Enumerable.Range(0, 10).ToDictionary(i => $"skew{i:D2}", i => i % 2 == 0 ? "* * * * * *" : "*/2 * * * * *");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        var from = cluster.Now + TimeSpan.FromSeconds(4);
        await cluster.StepAsync(TimeSpan.FromSeconds(15));

        // Membership churn moves tasks between nodes whose clocks disagree: the fastest leaves, the slowest dies.
        await nodes[4].Dcron.StopAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(10));
        nodes[0].Registry.Partition();
        await cluster.StepAsync(TimeSpan.FromSeconds(15));
        var late = cluster.AddNode("node-late", clockOffset: TimeSpan.FromSeconds(2.5));
        foreach (var (name, cron) in tasks)
        {
            late.Dcron.AddFunc(name, cron, cluster.Recorder());
        }

        await late.Dcron.StartAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(15));
        cluster.AssertExactlyOnce(tasks, from, cluster.Now - TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task ARegistryFailingEveryKthCallNeverDropsAFireSilently()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 3).Select(i => cluster.AddNode($"node-{i}")).ToArray();
        var tasks = Enumerable.Range(0, 8).ToDictionary(i => $"flaky{i}", i => i % 3 == 0 ? "*/2 * * * * *" : "* * * * * *");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        var from = cluster.Now + TimeSpan.FromSeconds(1);
        foreach (var n in nodes)
        {
            n.Registry.FailEvery = 5;
        }

        await cluster.StepAsync(TimeSpan.FromSeconds(60));
        foreach (var n in nodes)
        {
            n.Registry.FailEvery = 0;
        }

        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        var to = cluster.Now - TimeSpan.FromSeconds(6);
        Assert.True(nodes.Sum(n => n.Registry.Injected) > 100, "faults were injected");

        // Each due occurrence ran exactly once or was reported missed by a node: none vanished.
        var runs = cluster.Runs.ToArray();
        Assert.DoesNotContain(runs.GroupBy(r => (r.Task, r.ScheduledAt)), g => g.Select(r => r.FencingToken).Distinct().Count() > 1);
        var missed = cluster.Settled.Where(e => e.Result == FireResult.Missed).Select(e => (e.TaskName, e.ScheduledAt)).ToHashSet();
        var silent = new List<string>();
        foreach (var (name, cron) in tasks)
        {
            var ran = runs.Where(r => r.Task == name).Select(r => r.ScheduledAt).ToHashSet();
            silent.AddRange(FakeCluster.Due(cron, from, to).Where(at => !ran.Contains(at) && !missed.Contains((name, at))).Select(at => $"{name}@{at:HH:mm:ss}"));
        }

        Assert.True(silent.Count == 0, "silently dropped: " + string.Join(", ", silent));
    }

    [Fact]
    public async Task AThousandTasksAreSharedAndEachOccurrenceRunsOnce()
    {
        await using var cluster = new FakeCluster();
        for (var i = 0; i < 3; i++)
        {
            cluster.AddNode($"node-{i}");
        }

        var tasks = Enumerable.Range(0, 1000).ToDictionary(i => $"bulk{i:D4}", i => i % 2 == 0 ? "*/5 * * * * *" : "@every 10s");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        var from = cluster.Now + TimeSpan.FromSeconds(1);
        await cluster.StepAsync(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
        cluster.AssertExactlyOnce(tasks, from, cluster.Now - TimeSpan.FromSeconds(1));
        var owned = cluster.Nodes.Select(n => n.Dcron.GetAssignedTasks().Count).ToArray();
        Assert.Equal(1000, owned.Sum());
        Assert.All(owned, c => Assert.InRange(c, 150, 600));
    }
}
