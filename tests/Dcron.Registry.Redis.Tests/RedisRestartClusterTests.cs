using System.Collections.Concurrent;
using System.Diagnostics;
using DistributedCron.Testing;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>
/// A cluster of three in-process Dcron nodes runs every-second tasks on a Redis with appendonly yes +
/// appendfsync always; Redis is killed with SIGKILL mid-run and started again on the same port and directory.
/// The cluster resumes by itself, nothing recorded before the kill is lost, and no occurrence runs twice.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class RedisRestartClusterTests(ITestOutputHelper output)
{
    private const int TaskCount = 6;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task A_cluster_survives_a_SIGKILLed_and_restarted_Redis_without_losing_recorded_state()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = deadline.Token;
        await using var server = await RedisServer.StartAsync("restart-cluster", password: "restart-pw", persistent: true, ct: ct);
        var ns = "restart-" + Guid.NewGuid().ToString("N")[..8];
        var runs = new ConcurrentQueue<(string Task, DateTimeOffset At, string Node, long Token, bool CatchUp)>();
        await using var admin = await server.CreateRegistryAsync(ns);
        var nodes = new List<Dcron>();
        var registries = new List<RedisRegistry>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                var reg = await server.CreateRegistryAsync(ns);
                registries.Add(reg);
                var dc = new Dcron(reg, o =>
                {
                    o.NodeId = $"node-{i}";
                    o.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
                    o.NodeTtl = TimeSpan.FromSeconds(2);
                    o.CatchUpInterval = TimeSpan.FromSeconds(1);
                    o.MisfirePolicy = MisfirePolicy.FireAll;
                });
                for (var t = 0; t < TaskCount; t++)
                {
                    dc.AddFunc($"t{t}", "* * * * * *", ctx =>
                    {
                        runs.Enqueue((ctx.TaskName, ctx.ScheduledAt, ctx.NodeId, ctx.FencingToken, ctx.IsCatchUp));
                        return Task.CompletedTask;
                    });
                }

                nodes.Add(dc);
            }

            await Task.WhenAll(nodes.Select(n => n.StartAsync(ct)));
            await admin.PutTaskAsync(new TaskMeta { Name = "dynamic", CronFormat = "0 0 1 1 *", Payload = "kept" }, ct);
            await admin.MarkTaskDeletedAsync("tombstoned", ct);
            var started = DateTimeOffset.UtcNow;

            // Run a few seconds, then kill Redis in the middle of a second.
            await DelayUntil(Floor(started.AddSeconds(5)).AddMilliseconds(500), ct);
            var before = await admin.GetFireStatesAsync(ct);
            var sw = Stopwatch.StartNew();
            await server.KillAsync();
            var killedAt = DateTimeOffset.UtcNow;
            var tokensBeforeKill = runs.ToArray().GroupBy(r => r.Task).ToDictionary(g => g.Key, g => g.Max(r => r.Token));
            output.WriteLine($"killed Redis (SIGKILL) at {killedAt:HH:mm:ss.fff}; {runs.Count} runs so far");
            await Task.Delay(Outage, ct);
            await server.RestartAsync(ct);
            var restartedAt = DateTimeOffset.UtcNow;
            output.WriteLine($"Redis restarted on the same port and directory at {restartedAt:HH:mm:ss.fff} (down {sw.Elapsed.TotalSeconds:0.0} s)");

            // The cluster resumes by itself: every task runs again for occurrences after the restart.
            await Wait.UntilAsync(
                () => Enumerable.Range(0, TaskCount).All(t => runs.Any(r => r.Task == $"t{t}" && r.At > restartedAt.AddSeconds(1))),
                TimeSpan.FromSeconds(30), "every task runs again after the restart");
            var resumed = runs.Where(r => r.At > restartedAt).Min(r => r.At);
            output.WriteLine($"first run of an occurrence after the restart: {resumed:HH:mm:ss.fff}");
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            var end = DateTimeOffset.UtcNow;
            await Task.WhenAll(nodes.Select(n => n.StopAsync(ct)));

            var all = runs.ToArray();
            var duplicates = all.GroupBy(r => (r.Task, r.At)).Where(g => g.Count() > 1).Select(g => $"{g.Key.Task}@{g.Key.At:HH:mm:ss}").ToArray();
            Assert.True(duplicates.Length == 0, "occurrences ran twice: " + string.Join(", ", duplicates));

            // Nothing recorded before the kill was lost: fire states only moved forward, and fencing tokens handed
            // out after the restart are greater than every token handed out before the kill.
            var after = await admin.GetFireStatesAsync(ct);
            foreach (var (task, b) in before)
            {
                Assert.True(after.TryGetValue(task, out var a), $"the fire state of {task} was lost");
                Assert.True(a!.LastScheduledAt >= b.LastScheduledAt && a.FencingToken >= b.FencingToken, $"the fire state of {task} went back: {b} → {a}");
            }

            foreach (var r in all.Where(r => r.At > restartedAt.AddSeconds(1)))
            {
                Assert.True(r.Token > tokensBeforeKill.GetValueOrDefault(r.Task), $"token {r.Token} of {r.Task}@{r.At:HH:mm:ss} reuses a pre-kill token");
            }

            Assert.Equal("kept", (await admin.GetTasksAsync(ct))["dynamic"].Payload);
            Assert.Contains("tombstoned", await admin.GetDeletedTaskNamesAsync(ct));

            // Every occurrence from just after the start to just before the end ran exactly once: those that fell
            // into the outage were caught up (FireAll, within the misfire grace) once Redis was back.
            var from = Floor(started).AddSeconds(2);
            var to = Floor(end).AddSeconds(-1);
            var have = all.Select(r => (r.Task, r.At)).ToHashSet();
            var missing = new List<string>();
            for (var at = from; at <= to; at = at.AddSeconds(1))
            {
                missing.AddRange(Enumerable.Range(0, TaskCount).Select(t => $"t{t}").Where(t => !have.Contains((t, at))).Select(t => $"{t}@{at:HH:mm:ss}"));
            }

            var caughtUp = all.Count(r => r.CatchUp && r.At >= killedAt.AddSeconds(-1) && r.At <= restartedAt);
            output.WriteLine($"{all.Length} runs; {caughtUp} occurrences of the outage caught up after the restart; missing in {from:HH:mm:ss}–{to:HH:mm:ss}: {missing.Count}");
            Assert.True(missing.Count == 0, "occurrences never ran: " + string.Join(", ", missing.Take(40)));
        }
        finally
        {
            foreach (var n in nodes)
            {
                await n.DisposeAsync();
            }

            foreach (var r in registries)
            {
                await r.DisposeAsync();
            }
        }
    }

    private static DateTimeOffset Floor(DateTimeOffset t) => DateTimeOffset.FromUnixTimeSeconds(t.ToUnixTimeSeconds());

    private static Task DelayUntil(DateTimeOffset when, CancellationToken ct)
    {
        var d = when - DateTimeOffset.UtcNow;
        return d > TimeSpan.Zero ? Task.Delay(d, ct) : Task.CompletedTask;
    }
}
