using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit;

namespace DistributedCron.Hosting.Tests;

/// <summary>The health check: healthy only while the node runs, the registry answers and lists the node as working.</summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task HealthyWhileWorkingUnhealthyBeforeStartAndAfterStop()
    {
        await using var t = TestHost.Create(_ => { }, services: s => s.AddHealthChecks().AddDcron());
        var before = await CheckAsync(t);
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("not running", before.Description, StringComparison.Ordinal);

        await t.Host.StartAsync();
        var working = await CheckAsync(t);
        Assert.Equal(HealthStatus.Healthy, working.Status);
        Assert.Equal(t.Dcron.NodeId, working.Data["nodeId"]);
        Assert.Equal("InMemory", working.Data["registry"]);
        Assert.Equal("Working", working.Data["status"]);
        Assert.Equal(1, working.Data["workingNodes"]);

        await t.Host.StopAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(t)).Status);
    }

    [Fact]
    public async Task UnhealthyWhenTheRegistryThrows()
    {
        SwitchableRegistry? registry = null;
        await using var t = TestHost.Create(
            b => b.UseRegistry("Switchable", sp => registry = new SwitchableRegistry(new InMemoryRegistry(sp.GetRequiredService<InMemoryStore>()))),
            services: s => s.AddSingleton(sp => new InMemoryStore(sp.GetRequiredService<TimeProvider>())).AddHealthChecks().AddDcron());
        await t.Host.StartAsync();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(t)).Status);

        registry!.Failing = true;
        var failed = await CheckAsync(t);
        Assert.Equal(HealthStatus.Unhealthy, failed.Status);
        Assert.IsType<RegistryUnavailableException>(failed.Exception);
        Assert.Contains("Switchable registry", failed.Description, StringComparison.Ordinal);
        Assert.Contains("unreachable", failed.Description, StringComparison.Ordinal);

        registry.Failing = false;
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(t)).Status);
        await t.Host.StopAsync();
    }

    [Fact]
    public async Task UnhealthyWhenTheRegistryNoLongerListsTheNodeAndTheFailureStatusIsConfigurable()
    {
        await using var t = TestHost.Create(_ => { }, services: s => s.AddHealthChecks().AddDcron(failureStatus: HealthStatus.Degraded, tags: ["ready"]));
        await t.Host.StartAsync();
        await t.Observer.UnregisterNodeAsync(t.Dcron.NodeId);

        var entry = await CheckAsync(t);
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("not registered", entry.Description, StringComparison.Ordinal);
        Assert.Contains("ready", entry.Tags);
        await t.Host.StopAsync();
    }

    private static async Task<HealthReportEntry> CheckAsync(TestHost t)
    {
        var report = await t.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["dcron"];
    }
}
