using Xunit;

namespace DistributedCron.Tests.Engine;

/// <summary>Per-task semantics: one-shot, retry, timeout, concurrency, misfire policies, error reporting, init.</summary>
public sealed class TaskBehaviourTests
{
    [Fact]
    public async Task AOneShotRunsOnceInTheClusterAndStaysTombstonedUntilForceAdded()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 3).Select(i => cluster.AddNode($"node-{i}")).ToArray();
        foreach (var n in nodes)
        {
            n.Dcron.AddOneShotFunc("warmup", "*/2 * * * * *", cluster.Recorder());
        }

        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(12));
        Assert.Single(cluster.Runs, r => r.Task == "warmup");
        Assert.Contains("warmup", await cluster.Observer.GetDeletedTaskNamesAsync());
        Assert.All(nodes, n => Assert.DoesNotContain("warmup", n.Dcron.GetAllTasks()));

        // A restarted node re-adding the static one-shot is refused once it knows the tombstone.
        Assert.Throws<TaskDeletedException>(() => nodes[0].Dcron.AddOneShotFunc("warmup", "*/2 * * * * *", cluster.Recorder()));

        // ForceAdd on one node erases the history cluster-wide; the others still hold the static task.
        await nodes[0].Dcron.ForceAddOneShotFuncAsync("warmup", "*/2 * * * * *", cluster.Recorder());
        await cluster.StepAsync(TimeSpan.FromSeconds(12));
        Assert.Equal(2, cluster.Runs.Count(r => r.Task == "warmup"));
        Assert.Contains("warmup", await cluster.Observer.GetDeletedTaskNamesAsync());
    }

    [Fact]
    public async Task APeerThatHasNotSeenTheTombstoneYetDoesNotRunAFinishedOneShotAgain()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 2).Select(i => cluster.AddNode($"node-{i}", o => o.CatchUpInterval = TimeSpan.FromHours(1))).ToArray();
        foreach (var n in nodes)
        {
            n.Dcron.AddOneShotFunc("migrate", "10 * * * * *", cluster.Recorder());
        }

        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(2));
        var owner = Assert.Single(nodes, n => n.Dcron.GetAssignedTasks().Contains("migrate"));
        var peer = nodes.Single(n => n != owner);

        // The peer's task watch stalls (and it never polls): it does not learn the tombstone of the run at :10.
        peer.Registry.HoldTaskWatch();
        await cluster.StepAsync(TimeSpan.FromSeconds(10));
        Assert.Single(cluster.Runs, r => r.Task == "migrate");
        Assert.Contains("migrate", peer.Dcron.GetAllTasks());

        // The owner dies; the peer takes the task over and reaches its next occurrence (01:10) with a stale catalog.
        owner.Registry.Partition();
        await cluster.StepAsync(TimeSpan.FromSeconds(6));
        Assert.Contains("migrate", peer.Dcron.GetAssignedTasks());
        await cluster.StepAsync(TimeSpan.FromSeconds(56), TimeSpan.FromMilliseconds(500));
        Assert.Single(cluster.Runs, r => r.Task == "migrate");
        Assert.DoesNotContain("migrate", peer.Dcron.GetAllTasks());
        peer.Registry.ReleaseTaskWatch();
    }

    [Fact]
    public async Task RetriesRunInsideTheSameClaimWithTheAttemptNumber()
    {
        await using var cluster = new FakeCluster();
        var node = cluster.AddNode("solo");
        var calls = 0;
        node.Dcron.AddFunc("flaky", "5/10 * * * * *", cluster.Recorder(ctx =>
        {
            if (Interlocked.Increment(ref calls) % 3 != 0)
            {
                throw new InvalidOperationException($"boom {ctx.Attempt}");
            }

            return Task.CompletedTask;
        }), new TaskOptions { Retry = new RetryOptions { MaxAttempts = 3, Backoff = TimeSpan.FromSeconds(1) } });
        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(14));

        var runs = cluster.Runs.Where(r => r.Task == "flaky").ToArray();
        Assert.Equal([1, 2, 3], runs.Take(3).Select(r => r.Attempt));
        Assert.Single(runs.Take(3).Select(r => r.FencingToken).Distinct());
        var settled = Assert.Single(cluster.Settled, e => e.TaskName == "flaky");
        Assert.Equal(FireResult.Succeeded, settled.Result);
        Assert.Equal(3, settled.Attempts);
        Assert.Equal(3, (await cluster.Observer.GetFireStateAsync("flaky"))!.LastOutcome!.Attempts);
    }

    [Fact]
    public async Task AnAttemptThatExceedsItsTimeoutIsCancelledAndRecordedTimedOut()
    {
        await using var cluster = new FakeCluster();
        var node = cluster.AddNode("solo");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Dcron.AddFunc("slow", "30 * * * * *", async ctx =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken);
        }, new TaskOptions { Timeout = TimeSpan.FromSeconds(2) });
        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(29));
        cluster.Time.Advance(TimeSpan.FromSeconds(1));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cluster.Time.Advance(TimeSpan.FromSeconds(2));
        await TestWait.UntilAsync(() => cluster.Settled.Any(e => e.TaskName == "slow"), "the timed-out run to settle");

        var e = Assert.Single(cluster.Settled, x => x.TaskName == "slow");
        Assert.Equal(FireResult.TimedOut, e.Result);
        await TestWait.UntilAsync(async () => (await cluster.Observer.GetFireStateAsync("slow"))?.LastOutcome?.Status == FireStatus.TimedOut, "the outcome to be recorded");
    }

    [Fact]
    public async Task ForbidSkipsOccurrencesWhileThePreviousRunIsStillRunning()
    {
        await using var cluster = new FakeCluster();
        var node = cluster.AddNode("solo");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        node.Dcron.AddFunc("exclusive", "* * * * * *", async _ =>
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                await release.Task;
            }
        }, new TaskOptions { Concurrency = ConcurrencyMode.Forbid });
        await node.Dcron.StartAsync(); // the first occurrence is the start instant: it runs (and blocks) at once
        await TestWait.UntilAsync(() => Volatile.Read(ref runs) == 1, "the first run to start");
        for (var i = 0; i < 4; i++)
        {
            cluster.Time.Advance(TimeSpan.FromSeconds(1));
            await TestWait.UntilAsync(() => cluster.Settled.Count(e => e.Result == FireResult.Skipped) == i + 1, $"skip {i + 1}");
        }

        Assert.Equal(1, Volatile.Read(ref runs));
        release.SetResult();
        await cluster.IdleAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(4, Volatile.Read(ref runs));
    }

    [Fact]
    public async Task FireOnceRunsOnlyTheLatestMissedOccurrenceAndCountsTheOthersCoalesced()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 2).Select(i => cluster.AddNode($"node-{i}", o => o.MisfirePolicy = MisfirePolicy.FireOnce)).ToArray();
        var tasks = Enumerable.Range(0, 6).ToDictionary(i => $"c{i}", _ => "* * * * * *");
        foreach (var (name, cron) in tasks)
        {
            cluster.AddRecordedFunc(name, cron);
        }

        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        var victim = nodes.First(n => n.Dcron.GetAssignedTasks().Count > 0);
        var victimTasks = victim.Dcron.GetAssignedTasks();
        victim.Registry.Partition();
        await cluster.StepAsync(TimeSpan.FromSeconds(10));

        var catchUps = cluster.Runs.Where(r => r.IsCatchUp).ToArray();
        Assert.Equal(victimTasks.Count, catchUps.Length);
        var coalesced = cluster.Settled.Where(e => e.Result == FireResult.Coalesced).ToArray();
        Assert.NotEmpty(coalesced);
        Assert.All(coalesced, e => Assert.Contains(e.TaskName, victimTasks));
        Assert.DoesNotContain(cluster.Settled, e => e.Result == FireResult.Missed);
    }

    [Fact]
    public async Task SkipPolicyRunsNoMissedOccurrence()
    {
        await using var cluster = new FakeCluster();
        var nodes = Enumerable.Range(0, 2).Select(i => cluster.AddNode($"node-{i}", o => o.MisfirePolicy = MisfirePolicy.Skip)).ToArray();
        cluster.AddRecordedFunc("s1", "* * * * * *");
        cluster.AddRecordedFunc("s2", "* * * * * *");
        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(5));
        nodes.First(n => n.Dcron.GetAssignedTasks().Count > 0).Registry.Partition();
        await cluster.StepAsync(TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(cluster.Runs, r => r.IsCatchUp);
        Assert.Contains(cluster.Settled, e => e.Result == FireResult.Skipped && e.IsCatchUp);
    }

    [Fact]
    public async Task HandlerErrorsReachTheErrorHandlerAndAThrowingErrorHandlerDoesNotStopTheNode()
    {
        await using var cluster = new FakeCluster();
        var seen = 0;
        var node = cluster.AddNode("solo", o => o.ErrorHandler = e =>
        {
            Interlocked.Increment(ref seen);
            Assert.IsType<FormatException>(e.Exception);
            throw new InvalidOperationException("the error handler itself is broken");
        });
        node.Dcron.AddFunc("bad", "* * * * * *", _ => throw new FormatException("bad input"));
        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(5));

        Assert.InRange(Volatile.Read(ref seen), 4, 6);
        Assert.All(cluster.Settled.Where(e => e.TaskName == "bad"), e => Assert.Equal(FireResult.Failed, e.Result));
        Assert.True(node.Dcron.IsRunning);
    }

    [Fact]
    public async Task ANewTaskNeverFiresForAnOccurrenceFromBeforeItExisted()
    {
        await using var cluster = new FakeCluster();
        var node = cluster.AddNode("solo");
        await cluster.StartAllAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(30));
        var addedAt = cluster.Now;
        node.Dcron.AddFunc("fresh", "*/10 * * * * *", cluster.Recorder());
        await cluster.IdleAsync();
        await cluster.StepAsync(TimeSpan.FromSeconds(25));

        Assert.All(cluster.Runs, r => Assert.True(r.ScheduledAt >= addedAt));
        Assert.Equal(FakeCluster.Due("*/10 * * * * *", addedAt, cluster.Now).Count, cluster.Runs.Count);
        var state = await cluster.Observer.GetFireStateAsync("fresh");
        Assert.NotNull(state);
    }
}
