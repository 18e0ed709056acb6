using System.Diagnostics;
using DistributedCron.Registry.Etcd.Tests.Infrastructure;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>
/// A three-member etcd cluster on loopback ports: losing the member the registry uses (leader or follower, SIGKILL or
/// SIGTERM) does not stop the registry, its leases or its watches. Failover times are printed, never asserted.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));
    private EtcdCluster _cluster = null!;

    private CancellationToken Ct => _deadline.Token;

    public async Task InitializeAsync() => _cluster = await EtcdCluster.StartAsync(3, ct: Ct);

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _deadline.Dispose();
    }

    [Fact]
    public async Task Killing_the_leader_in_use_moves_requests_leases_and_watches_to_the_other_members()
    {
        var (leader, followers) = await RolesAsync();
        var options = _cluster.Options("failover");
        options.Endpoints = [leader.ClientUrl, .. followers.Select(f => f.ClientUrl)]; // the leader is the member in use
        await using var r = new EtcdRegistry(options);
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(5), Ct);
        await r.AddTaskAsync(new TaskMeta { Name = "job", CronFormat = "* * * * * *" }, Ct);
        Assert.True((await r.CanRunTaskAsync("job", T0, "n1", Ct)).Granted);
        Assert.Equal(leader.ClientUrl, r.CurrentEndpoint);
        await using var nodes = await NodeWatchFolder.StartAsync(r, TimeSpan.FromSeconds(10), Ct);
        await using var tasks = await TaskWatchFolder.StartAsync(r, TimeSpan.FromSeconds(10), Ct);

        var sw = Stopwatch.StartNew();
        await leader.Server.KillAsync();
        var claim = await r.CanRunTaskAsync("job", T0.AddSeconds(1), "n1", Ct); // fails over inside the call
        var firstCall = sw.Elapsed;
        Assert.True(claim.Granted);
        Assert.Equal(2, claim.FencingToken);
        Assert.NotEqual(leader.ClientUrl, r.CurrentEndpoint);

        await r.HeartbeatAsync("n1", Ct); // the lease lives in the cluster, not in the member
        await r.UpdateNodeStatusAsync("n1", NodeStatus.Working, Ct);
        await nodes.WaitUntilAsync(v => v.TryGetValue("n1", out var n) && n.Status == NodeStatus.Working, TimeSpan.FromSeconds(15),
            "the node watch resumed on another member", Ct);
        var watchResumed = sw.Elapsed;
        await r.PutTaskAsync(new TaskMeta { Name = "job2", CronFormat = "@every 5s" }, Ct);
        await tasks.WaitUntilAsync(v => v.ContainsKey("job2"), TimeSpan.FromSeconds(15), "the task watch resumed", Ct);
        Assert.Equal(2, (await r.GetFireStateAsync("job", Ct))!.FencingToken);
        Assert.Equal(1, nodes.Events.Count(e => e.Kind == NodeEventKind.Snapshot)); // resumed by revision: nothing was lost

        output.WriteLine($"SIGKILL of the leader in use ({leader.ClientUrl}): first call (a claim) answered after {firstCall.TotalMilliseconds:0} ms " +
            $"by {r.CurrentEndpoint}; node watch delivered a change after {watchResumed.TotalMilliseconds:0} ms.");
    }

    [Fact]
    public async Task Stopping_a_follower_in_use_fails_over_and_losing_quorum_fails_fast_until_it_is_back()
    {
        var (leader, followers) = await RolesAsync();
        var inUse = followers[0];
        var options = _cluster.Options("follower", requestTimeout: TimeSpan.FromSeconds(3));
        options.Endpoints = [inUse.ClientUrl, followers[1].ClientUrl, leader.ClientUrl];
        await using var r = new EtcdRegistry(options);
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(inUse.ClientUrl, r.CurrentEndpoint);
        await using var nodes = await NodeWatchFolder.StartAsync(r, TimeSpan.FromSeconds(10), Ct);

        var sw = Stopwatch.StartNew();
        await inUse.Server.StopAsync();
        await r.HeartbeatAsync("n1", Ct);
        var firstCall = sw.Elapsed;
        output.WriteLine($"SIGTERM of the follower in use ({inUse.ClientUrl}): first call (a heartbeat) answered after {firstCall.TotalMilliseconds:0} ms by {r.CurrentEndpoint}.");

        // Two of three members down: no quorum. Calls fail with RegistryUnavailableException within the timeout.
        await leader.Server.StopAsync();
        sw.Restart();
        var ex = await Assert.ThrowsAsync<RegistryUnavailableException>(() => r.UpdateNodeStatusAsync("n1", NodeStatus.Working, Ct));
        output.WriteLine($"Without quorum: {ex.GetType().Name} after {sw.Elapsed.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3 + 3), $"took {sw.Elapsed}");
        foreach (var m in _cluster.Members)
        {
            Assert.Contains(m.ClientUrl, ex.Message); // every endpoint and why it failed
        }

        // Quorum back: the same client works again, and the open watch delivers the change.
        await inUse.Server.StartAsync(Ct);
        sw.Restart();
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await r.UpdateNodeStatusAsync("n1", NodeStatus.Working, Ct);
                return true;
            }
            catch (RegistryUnavailableException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "a write once quorum is back");
        output.WriteLine($"Quorum restored: the first write succeeded {sw.Elapsed.TotalMilliseconds:0} ms after the member was ready again.");
        await nodes.WaitUntilAsync(v => v.TryGetValue("n1", out var n) && n.Status == NodeStatus.Working, TimeSpan.FromSeconds(15),
            "the node watch delivers the change after quorum is back", Ct);
    }

    /// <summary>The current leader and the followers, asked from the members themselves.</summary>
    private async Task<(EtcdMember Leader, EtcdMember[] Followers)> RolesAsync()
    {
        var ids = new Dictionary<string, EtcdMember>();
        string? leaderId = null;
        foreach (var m in _cluster.Members)
        {
            using var admin = new EtcdAdmin(m.ClientUrl);
            var (member, leader) = await admin.StatusAsync(Ct);
            ids[member] = m;
            leaderId ??= leader;
        }

        var l = ids[leaderId!];
        return (l, _cluster.Members.Where(m => m != l).ToArray());
    }
}
