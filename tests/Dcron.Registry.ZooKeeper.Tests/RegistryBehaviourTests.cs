using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests;

/// <summary>Options, the znode layout (chroot, namespace, node ids) and what the registry leaves on the server.</summary>
public sealed class RegistryBehaviourTests(SharedTarget<ZooKeeperTarget> shared) : IClassFixture<SharedTarget<ZooKeeperTarget>>
{
    private ZooKeeperTarget Target => shared.Target;

    [Theory]
    [InlineData("ConnectString", "")]
    [InlineData("ConnectString", "host:99999")]
    [InlineData("Namespace", "")]
    [InlineData("Namespace", "a/b")]
    [InlineData("Namespace", "zookeeper")]
    [InlineData("Namespace", "..")]
    [InlineData("SessionTimeout", "0")]
    [InlineData("RequestTimeout", "-1")]
    [InlineData("MaxPayloadBytes", "0")]
    public void Invalid_options_are_refused_naming_the_setting(string setting, string value)
    {
        var o = new ZooKeeperRegistryOptions { ConnectString = "127.0.0.1:2181" };
        switch (setting)
        {
            case "ConnectString": o.ConnectString = value; break;
            case "Namespace": o.Namespace = value; break;
            case "SessionTimeout": o.SessionTimeout = TimeSpan.FromMilliseconds(int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)); break;
            case "RequestTimeout": o.RequestTimeout = TimeSpan.FromMilliseconds(int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)); break;
            case "MaxPayloadBytes": o.MaxPayloadBytes = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
        }

        var ex = Assert.ThrowsAny<ArgumentException>(() => new ZooKeeperRegistry(o));
        Assert.Equal(setting, ex.ParamName);
    }

    [Fact]
    public void Defaults_are_documented_values()
    {
        var o = new ZooKeeperRegistryOptions();
        Assert.Equal("dcron", o.Namespace);
        Assert.Equal(TimeSpan.FromSeconds(10), o.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), o.RequestTimeout);
        Assert.Equal(64 * 1024, o.MaxPayloadBytes);
        Assert.Null(o.Acl);
    }

    [Fact]
    public async Task A_chroot_holds_everything_and_is_created_when_missing()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var chroot = "/apps-" + Guid.NewGuid().ToString("N")[..8] + "/cron";
        await using var r = new ZooKeeperRegistry(Target.Options("c1", Target.ConnectString + chroot));
        Assert.Equal(chroot + "/c1", r.RootPath);
        await r.PutTaskAsync(new TaskMeta { Name = "job", CronFormat = "@daily" }, cts.Token);
        await r.RegisterNodeAsync(new Node { Id = "n/1 ü" }, TimeSpan.FromSeconds(10), cts.Token);

        await using var raw = ZooKeeperTarget.RawClient(Target.ConnectString);
        Assert.NotNull(await raw.ExistsAsync(chroot + "/c1/tasks/job", false, cts.Token));
        Assert.Equal(["n%2F1%20%C3%BC"], await raw.GetChildrenAsync(chroot + "/c1/nodes", false, cts.Token));
        Assert.Null(await raw.ExistsAsync("/c1", false, cts.Token));

        // The id round-trips through the znode's data, whatever its characters.
        Assert.Equal("n/1 ü", Assert.Single(await r.GetNodesAsync(cts.Token)).Id);
        await r.HeartbeatAsync("n/1 ü", cts.Token);
        await r.UnregisterNodeAsync("n/1 ü", cts.Token);
        Assert.Empty(await r.GetNodesAsync(cts.Token));
    }

    [Fact]
    public async Task The_layout_is_one_znode_per_node_task_and_fire_state()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ns = "layout-" + Guid.NewGuid().ToString("N")[..8];
        await using var r = new ZooKeeperRegistry(Target.Options(ns));
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(10), cts.Token);
        await r.AddTaskAsync(new TaskMeta { Name = "a", CronFormat = "@daily" }, cts.Token);
        await r.MarkTaskDeletedAsync("a", cts.Token);
        await r.MarkTaskDeletedAsync("b", cts.Token);
        for (var i = 1; i <= 20; i++)
        {
            Assert.True((await r.CanRunTaskAsync("a", DateTimeOffset.UnixEpoch.AddSeconds(i), "n1", cts.Token)).Granted);
        }

        await using var raw = ZooKeeperTarget.RawClient(Target.ConnectString);
        Assert.Equal(["fires", "nodes", "tasks"], (await raw.GetChildrenAsync("/" + ns, false, cts.Token))!.Order(StringComparer.Ordinal));
        Assert.Equal(["n1"], await raw.GetChildrenAsync($"/{ns}/nodes", false, cts.Token));
        Assert.Equal(["a", "b"], (await raw.GetChildrenAsync($"/{ns}/tasks", false, cts.Token))!.Order(StringComparer.Ordinal));
        Assert.Equal(["a"], await raw.GetChildrenAsync($"/{ns}/fires", false, cts.Token));
        var node = await raw.ExistsAsync($"/{ns}/nodes/n1", false, cts.Token);
        Assert.NotEqual(0, node!.EphemeralOwner);
        Assert.NotEqual(r.MainClient.SessionId, node.EphemeralOwner); // the node's own session, not the main one
        var fire = (await raw.GetDataAsync($"/{ns}/fires/a", false, cts.Token))!.Value;
        Assert.Equal(19, fire.Stat.Version);

        // Removing the tombstone of a name without metadata removes its znode.
        await r.RemoveTaskDeletedAsync("b", cts.Token);
        Assert.Null(await raw.ExistsAsync($"/{ns}/tasks/b", false, cts.Token));
        Assert.Equal(["a"], await r.GetDeletedTaskNamesAsync(cts.Token));
        Assert.Equal(["a"], (await r.GetTasksAsync(cts.Token)).Keys); // a tombstone keeps the metadata
    }
}
