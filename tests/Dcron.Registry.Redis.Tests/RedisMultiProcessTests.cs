using DistributedCron.Testing.MultiProcess;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>
/// Three OS processes (Dcron.TestHost) run one cluster against a real, password-protected Redis with a dozen
/// every-second tasks; one is SIGKILLed mid-way. Every occurrence in the window runs exactly once, and the killed
/// node's missed fires are caught up by the survivors. The failover time is printed in the test output.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class RedisMultiProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_processes_one_SIGKILLed_every_occurrence_runs_exactly_once()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var server = await RedisServer.StartAsync("multiprocess", password: "mp-" + Guid.NewGuid().ToString("N")[..12], ct: deadline.Token);
        var result = await MultiProcessRun.RunAsync(new MultiProcessScenario
        {
            Backend = "redis",
            Connect = $"{server.Endpoint},password={server.Password}",
            Nodes = 3,
            Tasks = 12,
        }, output.WriteLine, deadline.Token);

        result.AssertExactlyOnce();
        Assert.True(result.WindowSeconds >= 30, $"the measured window is only {result.WindowSeconds} s");
        Assert.NotEmpty(result.VictimTasks);
        Assert.True(result.CatchUpRuns > 0, "the survivors caught up none of the killed node's fires");
    }
}
