using Xunit;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>Option validation (no server needed): each bad value is refused with a message naming it.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        var o = new EtcdRegistryOptions();
        o.Validate();
        Assert.Equal("dcron", o.Namespace);
        Assert.Equal(["http://127.0.0.1:2379"], o.Endpoints);
        Assert.Equal(TimeSpan.FromSeconds(5), o.RequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), o.DialTimeout);
    }

    public static TheoryData<string, Action<EtcdRegistryOptions>, string> Invalid() => new()
    {
        { "a/b", o => o.Namespace = "a/b", "a/b" },
        { "empty namespace", o => o.Namespace = "", "Namespace" },
        { "no endpoints", o => o.Endpoints = [], "endpoint" },
        { "not a url", o => o.Endpoints = ["127.0.0.1:2379"], "127.0.0.1:2379" },
        { "a path", o => o.Endpoints = ["http://h:2379/v3"], "http://h:2379/v3" },
        { "mixed schemes", o => o.Endpoints = ["http://a:1", "https://b:2"], "https://b:2" },
        { "password without user", o => o.Password = "x", "Username" },
        { "user without password", o => o.Username = "u", "'u'" },
        { "zero timeout", o => o.RequestTimeout = TimeSpan.Zero, "RequestTimeout" },
        { "dial above request", o => o.DialTimeout = TimeSpan.FromSeconds(10), "DialTimeout" },
        { "CA over http", o => o.ServerName = "x", "https" },
        { "cert without key", o => { o.Endpoints = ["https://a:1"]; o.ClientCertificatePath = "/etc/hostname"; }, "ClientKeyPath" },
        { "missing CA file", o => { o.Endpoints = ["https://a:1"]; o.CaCertificatePath = "/nonexistent/ca.pem"; }, "/nonexistent/ca.pem" },
        { "payload limit", o => o.MaxPayloadBytes = 0, "MaxPayloadBytes" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_values_are_refused_naming_the_value(string what, Action<EtcdRegistryOptions> change, string named)
    {
        var o = new EtcdRegistryOptions();
        change(o);
        var ex = Assert.ThrowsAny<ArgumentException>(o.Validate);
        Assert.Contains(named, ex.Message);
        Assert.Throws(ex.GetType(), () => new EtcdRegistry(o)); // the constructor validates too
        _ = what;
    }

    [Fact]
    public async Task The_registry_copies_its_options()
    {
        var o = new EtcdRegistryOptions { Namespace = "first" };
        await using var r = new EtcdRegistry(o);
        o.Namespace = "second";
        Assert.Equal("first", r.Namespace);
    }

    [Fact]
    public void Prefix_ends_cover_exactly_the_prefix()
    {
        Assert.Equal("/dcron0"u8.ToArray(), EtcdKeys.PrefixEnd("/dcron/"));
        Assert.Equal("b"u8.ToArray(), EtcdKeys.PrefixEnd("a"));
        var k = new EtcdKeys("ns");
        Assert.Equal("/ns/tasks/meta/job", System.Text.Encoding.UTF8.GetString(k.Meta("job")));
        Assert.Equal("/ns/fires/job", System.Text.Encoding.UTF8.GetString(k.Fire("job")));
        Assert.Equal("job", EtcdKeys.Tail(k.Deleted("job"), k.DeletedPrefix));
        Assert.Null(EtcdKeys.Tail(k.Meta("job"), k.DeletedPrefix));
    }
}
