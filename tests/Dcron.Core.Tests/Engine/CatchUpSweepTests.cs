using Xunit;

namespace DistributedCron.Tests.Engine;

/// <summary>The catch-up sweep reads fire states only for tasks that may need a catch-up, and still finds every one that does.</summary>
public sealed class CatchUpSweepTests
{
    [Fact]
    public async Task SweepsOverTasksFiringNormallyReadNoFireState()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 2).Select(i => cluster.AddNode($"node-{i}")).ToArray();
        var tasks = Enumerable.Range(0, 8).ToDictionary(i => $"steady{i}", _ => "* * * * * *");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(6));
        Assert.All(nodes, n => Assert.NotEmpty(n.Dcron.GetAssignedTasks()));
        var from = cluster.Now;
        var before = nodes.Select(n => (n.Registry.FireStatesReads, n.Registry.FireStateReads)).ToArray();

        // Ten sweeps (CatchUpInterval = 2 s) while every task fires each second.
        await cluster.StepAsync(TimeSpan.FromSeconds(20));

        for (var i = 0; i < nodes.Length; i++)
        {
            Assert.Equal(before[i].FireStatesReads, nodes[i].Registry.FireStatesReads);
            Assert.Equal(before[i].FireStateReads, nodes[i].Registry.FireStateReads);
        }

        cluster.AssertExactlyOnce(tasks, from, cluster.Now);
    }

    [Fact]
    public async Task ATaskWhoseInitialiseFailedIsInitialisedByALaterSweep()
    {
        await using var cluster = new FakeCluster();
        cluster.Time.Advance(TimeSpan.FromMinutes(10));
        var node = cluster.AddNode("solo");
        node.Dcron.AddFunc("hourly", "0 0 * * * *", cluster.Recorder());
        node.Registry.FailNext(nameof(IRegistry.CanRunTaskAsync), "hourly");
        var started = cluster.Now;
        await cluster.StartAllAsync();

        // The initialise on gaining the task failed: no fire state yet, and the timer's first occurrence is 50 min away.
        Assert.Equal(0, node.Registry.FaultsLeft(nameof(IRegistry.CanRunTaskAsync), "hourly"));
        Assert.Null(await cluster.Observer.GetFireStateAsync("hourly"));

        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        var state = await cluster.Observer.GetFireStateAsync("hourly");
        Assert.NotNull(state);
        Assert.Equal(FireStatus.Skipped, state.LastOutcome?.Status);
        Assert.InRange(state.LastScheduledAt, started, cluster.Now);
        Assert.Empty(cluster.Runs);
    }

    [Fact]
    public async Task AGapWhoseFirstCatchUpFailedIsCaughtUpByTheSweep()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 2).Select(i => cluster.AddNode($"node-{i}")).ToArray();
        var tasks = new Dictionary<string, string> { ["gap"] = "* * * * * *" };
        cluster.AddRecordedFunc("gap", tasks["gap"]);
        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        var from = cluster.Now;
        var victim = Assert.Single(nodes, n => n.Dcron.GetAssignedTasks().Contains("gap"));
        var survivor = nodes.Single(n => n != victim);

        // The owner is cut off; the survivor gains the task with missed occurrences, and its first catch-up read fails.
        survivor.Registry.FailNext(nameof(IRegistry.GetFireStateAsync), "gap");
        victim.Registry.Partition();
        await cluster.StepUntilAsync(() => survivor.Dcron.GetAssignedTasks().Contains("gap"), TimeSpan.FromSeconds(30), "the survivor to gain the task");
        await cluster.IdleAsync();
        Assert.Equal(0, survivor.Registry.FaultsLeft(nameof(IRegistry.GetFireStateAsync), "gap"));
        await cluster.StepAsync(TimeSpan.FromSeconds(5));

        Assert.Contains(cluster.Runs, r => r.IsCatchUp && r.NodeId == survivor.Id);
        cluster.AssertExactlyOnce(tasks, from, cluster.Now);
    }
}
