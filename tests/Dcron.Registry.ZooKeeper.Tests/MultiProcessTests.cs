using DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;
using DistributedCron.Testing.MultiProcess;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.ZooKeeper.Tests;

/// <summary>
/// Three OS processes (Dcron.TestHost) run one cluster against a real ZooKeeper with digest auth, a dozen
/// every-second tasks; one is SIGKILLed mid-way. Every occurrence in the window runs exactly once, and the survivors
/// catch up the killed node's fires once the server expires its node session (the engine's NodeTtl). The failover
/// time (kill → first catch-up run) is printed.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class MultiProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_processes_one_SIGKILLed_every_occurrence_runs_exactly_once()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var server = ZooKeeperServer.Standalone();
        await server.StartAsync(deadline.Token);

        var result = await MultiProcessRun.RunAsync(new MultiProcessScenario
        {
            Backend = "zookeeper",
            Connect = server.Address,
            Nodes = 3,
            Tasks = 12,
            ExtraArgs = ["--option", "username=mp", "--option", "password=mp-pw"],
        }, output.WriteLine, deadline.Token);

        result.AssertExactlyOnce();
        Assert.True(result.WindowSeconds >= 30, $"the measured window is only {result.WindowSeconds} s");
        Assert.NotEmpty(result.VictimTasks);
        Assert.True(result.CatchUpRuns > 0, "the survivors caught up none of the killed node's fires");
    }
}
