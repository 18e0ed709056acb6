using System.Collections.Concurrent;
using System.Diagnostics;
using DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;
using DistributedCron.Testing;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.ZooKeeper.Tests;

/// <summary>
/// Connection failover across a three-server loopback ensemble: stopping the server the registry is connected to,
/// then the leader, never stops the registry, its sessions survive (the node stays registered), and the watch
/// goes on. The failover times are printed (test output), never asserted.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class EnsembleFailoverTests(EnsembleFixture ensemble, ITestOutputHelper output) : IClassFixture<EnsembleFixture>
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task Stopping_the_server_in_use_and_then_the_leader_keeps_the_registry_working()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        var options = new ZooKeeperRegistryOptions
        {
            ConnectString = ensemble.ConnectString,
            Namespace = "failover-" + Guid.NewGuid().ToString("N")[..8],
            SessionTimeout = TimeSpan.FromSeconds(6),
            RequestTimeout = TimeSpan.FromSeconds(10),
            WatchMaxRetryDelay = TimeSpan.FromMilliseconds(200),
        };
        await using var registry = new ZooKeeperRegistry(options, TestLog.For<ZooKeeperRegistry>());
        await using var observer = new ZooKeeperRegistry(options);

        await registry.RegisterNodeAsync(new Node { Id = "survivor", Status = NodeStatus.Working }, Ttl, ct);
        await registry.PutTaskAsync(new TaskMeta { Name = "job", CronFormat = "* * * * * *" }, ct);
        var mainSession = registry.MainClient.SessionId;

        // A heartbeat loop like the engine's, and a watch that must never see the node leave.
        var heartbeatErrors = new ConcurrentQueue<Exception>();
        using var stopBeating = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var beating = Task.Run(async () =>
        {
            while (!stopBeating.IsCancellationRequested)
            {
                try
                {
                    await registry.HeartbeatAsync("survivor", stopBeating.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    heartbeatErrors.Enqueue(ex);
                }

                await Task.Delay(Ttl / 6, stopBeating.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }, ct);
        var nodeEvents = new ConcurrentQueue<NodeEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in registry.WatchNodesAsync(stopBeating.Token))
            {
                nodeEvents.Enqueue(e);
            }
        }, ct);
        await Wait.UntilAsync(() => !nodeEvents.IsEmpty, TimeSpan.FromSeconds(10), "the watch's snapshot");

        var scheduled = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        // 1. The server the main session is connected to.
        var inUse = ensemble.ByAddress(registry.MainClient.ConnectedServer ?? throw new InvalidOperationException("not connected"));
        var mode = await inUse.ModeAsync(ct);
        var first = await FailOverAsync(registry, inUse, scheduled = scheduled.AddSeconds(1), ct);
        output.WriteLine($"stopped the server in use ({inUse.Address}, {mode}): first write {first.TotalMilliseconds:0} ms later, now on {registry.MainClient.ConnectedServer}");
        Assert.NotEqual(inUse.Address, registry.MainClient.ConnectedServer);

        await inUse.StartAsync(ct); // back to three, so the ensemble keeps a quorum without the leader

        // 2. The leader (an election among the remaining two).
        var leader = await ensemble.LeaderAsync(ct);
        var usedLeader = registry.MainClient.ConnectedServer == leader.Address;
        var second = await FailOverAsync(registry, leader, scheduled = scheduled.AddSeconds(1), ct);
        output.WriteLine($"stopped the leader ({leader.Address}; the registry was {(usedLeader ? "" : "not ")}connected to it): first write {second.TotalMilliseconds:0} ms later, now on {registry.MainClient.ConnectedServer}");
        var newLeader = await ensemble.LeaderAsync(ct);
        output.WriteLine($"new leader: {newLeader.Address}");

        // The sessions moved instead of expiring: same main session, the node stayed registered throughout.
        await registry.HeartbeatAsync("survivor", ct);
        Assert.Equal(mainSession, registry.MainClient.SessionId);
        Assert.Contains(await observer.GetNodesAsync(ct), n => n.Id == "survivor");
        Assert.DoesNotContain(nodeEvents, e => e.Kind == NodeEventKind.Removed);
        Assert.DoesNotContain(heartbeatErrors, e => e is NodeNotFoundException);
        Assert.All(heartbeatErrors, e => Assert.IsAssignableFrom<RegistryUnavailableException>(e));
        output.WriteLine($"heartbeats that failed during the failovers (RegistryUnavailableException): {heartbeatErrors.Count}; node events: {string.Join(", ", nodeEvents.Select(e => e.Kind))}");

        // The watch still delivers changes.
        await observer.UpdateNodeStatusAsync("survivor", NodeStatus.Leaving, ct);
        await Wait.UntilAsync(() => nodeEvents.Any(e => e.Node?.Status == NodeStatus.Leaving || e.Nodes.Any(n => n.Status == NodeStatus.Leaving)),
            TimeSpan.FromSeconds(15), "the watch sees a change made after the failovers");

        await stopBeating.CancelAsync();
        await Task.WhenAll(beating, watching).ContinueWith(_ => { }, TaskScheduler.Default);
        await leader.StartAsync(ct);
    }

    /// <summary>Kills <paramref name="server"/> and measures the time until a claim (a write) succeeds again.</summary>
    private static async Task<TimeSpan> FailOverAsync(ZooKeeperRegistry registry, ZooKeeperServer server, DateTimeOffset at, CancellationToken ct)
    {
        await server.KillAsync();
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var claim = await registry.CanRunTaskAsync("job", at, "survivor", ct);
                Assert.True(claim.Granted);
                return sw.Elapsed;
            }
            catch (RegistryUnavailableException) when (sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                // a write whose reply was lost, or no server yet: the engine retries the same way
            }
        }
    }
}
