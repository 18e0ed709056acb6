using DistributedCron.Registry.Consul;
using DistributedCron.Registry.Etcd;
using DistributedCron.Registry.Redis;
using DistributedCron.Registry.ZooKeeper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace DistributedCron.Hosting.Tests;

/// <summary>
/// The per-registry hosting packages bind their options from <c>Dcron:{Registry}</c> and report bad values under
/// those keys at startup, before any connection is attempted (no server is needed here; the registries themselves are
/// tested against real servers in their own suites).
/// </summary>
public sealed class RegistryHostingTests
{
    [Fact]
    public async Task EtcdEndpointsFromConfigurationReplaceTheDefault()
    {
        await using var array = TestHost.Create(b => b.UseEtcd(), With(
            ("Dcron:Etcd:Endpoints:0", "http://etcd-a:2379"), ("Dcron:Etcd:Endpoints:1", "http://etcd-b:2379"), ("Dcron:Etcd:Namespace", "jobs")));
        var o = array.Services.GetRequiredService<IOptions<EtcdRegistryOptions>>().Value;
        Assert.Equal(["http://etcd-a:2379", "http://etcd-b:2379"], o.Endpoints);
        Assert.Equal("jobs", o.Namespace);

        await using var csv = TestHost.Create(b => b.UseEtcd(), With(("Dcron:Etcd:Endpoints", "http://etcd-a:2379, http://etcd-b:2379")));
        Assert.Equal(["http://etcd-a:2379", "http://etcd-b:2379"], csv.Services.GetRequiredService<IOptions<EtcdRegistryOptions>>().Value.Endpoints);

        await using var none = TestHost.Create(b => b.UseEtcd(o => o.RequestTimeout = TimeSpan.FromSeconds(9)), With());
        var defaults = none.Services.GetRequiredService<IOptions<EtcdRegistryOptions>>().Value;
        Assert.Equal(["http://127.0.0.1:2379"], defaults.Endpoints);
        Assert.Equal(TimeSpan.FromSeconds(9), defaults.RequestTimeout);
    }

    [Fact]
    public async Task ABadEtcdSettingFailsTheStartNamingItsKey()
    {
        await using var t = TestHost.Create(b => b.UseEtcd(), With(("Dcron:Etcd:Endpoints", "ftp://etcd:2379")));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => t.Host.StartAsync());
        Assert.Contains("Dcron:Etcd:Endpoints", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ftp://etcd:2379", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZooKeeperNeedsAConnectStringAndBindsItsSection()
    {
        await using var missing = TestHost.Create(b => b.UseZooKeeper(), With());
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => missing.Host.StartAsync());
        Assert.Contains("Dcron:ZooKeeper:ConnectString", ex.Message, StringComparison.Ordinal);

        await using var bound = TestHost.Create(b => b.UseZooKeeper(), With(
            ("Dcron:ZooKeeper:ConnectString", "zk-a:2181,zk-b:2181/apps"), ("Dcron:ZooKeeper:SessionTimeout", "00:00:20"),
            ("Dcron:ZooKeeper:Acl:0:Permissions", "Read, Write"), ("Dcron:ZooKeeper:Acl:0:Scheme", "world"), ("Dcron:ZooKeeper:Acl:0:Id", "anyone")));
        var o = bound.Services.GetRequiredService<IOptions<ZooKeeperRegistryOptions>>().Value;
        Assert.Equal(("zk-a:2181,zk-b:2181/apps", TimeSpan.FromSeconds(20)), (o.ConnectString, o.SessionTimeout));
        Assert.Equal(new ZooKeeperAclEntry(ZooKeeperPermissions.Read | ZooKeeperPermissions.Write, "world", "anyone"), Assert.Single(o.Acl!));

        await using var code = TestHost.Create(b => b.UseZooKeeper("zk-c:2181"), With(("Dcron:ZooKeeper:ConnectString", "ignored:2181")));
        Assert.Equal("zk-c:2181", code.Services.GetRequiredService<IOptions<ZooKeeperRegistryOptions>>().Value.ConnectString);
    }

    [Fact]
    public async Task RedisBindsItsSectionAndWithoutAConnectionSaysWhichKeyToSet()
    {
        await using var t = TestHost.Create(b => b.UseRedis(), With(("Dcron:Redis:Namespace", "jobs"), ("Dcron:Redis:Database", "2")));
        var o = t.Services.GetRequiredService<IOptions<RedisRegistryOptions>>().Value;
        Assert.Equal(("jobs", 2), (o.Namespace, o.Database));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => t.Host.StartAsync());
        Assert.Contains("Dcron:Redis:Configuration", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadRedisSettingFailsTheStartNamingItsKey()
    {
        await using var t = TestHost.Create(b => b.UseRedis("127.0.0.1:1"), With(("Dcron:Redis:Namespace", "{braces}")));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => t.Host.StartAsync());
        Assert.Contains("Dcron:Redis:Namespace", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsulBindsItsSectionAndReportsABadAddressUnderItsKey()
    {
        await using var bound = TestHost.Create(b => b.UseConsul(), With(
            ("Dcron:Consul:Address", "http://consul:8500"), ("Dcron:Consul:Token", "secret"), ("Dcron:Consul:MinSessionTtl", "00:00:15")));
        var o = bound.Services.GetRequiredService<IOptions<ConsulRegistryOptions>>().Value;
        Assert.Equal(("http://consul:8500", "secret", TimeSpan.FromSeconds(15)), (o.Address, o.Token, o.MinSessionTtl));

        await using var bad = TestHost.Create(b => b.UseConsul(), With(("Dcron:Consul:Namespace", "../escape")));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => bad.Host.StartAsync());
        Assert.Contains("Dcron:Consul:Namespace", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheLastRegistryChosenWins()
    {
        var services = new ServiceCollection();
        services.AddDcron(b => b.UseInMemory().UseEtcd().UseZooKeeper("zk:2181").UseConsul().UseRedis("127.0.0.1:6379"));
        Assert.Single(services, d => d.ServiceType == typeof(IRegistry));
    }

    private static Dictionary<string, string?> With(params (string Key, string Value)[] values)
    {
        var d = new Dictionary<string, string?>(TestHost.StableTiming);
        foreach (var (k, v) in values)
        {
            d[k] = v;
        }

        return d;
    }
}
