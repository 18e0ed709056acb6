using Xunit;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>Option validation, the CLI environment variables, and the reversible key escaping.</summary>
public sealed class OptionsAndKeysTests
{
    [Theory]
    [InlineData("Namespace", "")]
    [InlineData("Namespace", "a/b")]
    [InlineData("Namespace", "..x")]
    [InlineData("Namespace", ".hidden")]
    [InlineData("Namespace", "ü")]
    [InlineData("Address", "127.0.0.1:8500")]
    [InlineData("Address", "ftp://127.0.0.1:8500")]
    [InlineData("Address", "http://127.0.0.1:8500/v1")]
    [InlineData("Datacenter", "dc 1")]
    public void An_invalid_setting_is_refused_naming_it_and_its_value(string setting, string value)
    {
        var o = new ConsulRegistryOptions();
        typeof(ConsulRegistryOptions).GetProperty(setting)!.SetValue(o, value);
        var ex = Assert.ThrowsAny<ArgumentException>(o.Validate);
        Assert.Equal(setting, ex.ParamName);
        Assert.Contains($"'{value}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timeouts_are_range_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(new ConsulRegistryOptions { BlockingWait = TimeSpan.FromMinutes(11) }.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(new ConsulRegistryOptions { RequestTimeout = TimeSpan.Zero }.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(new ConsulRegistryOptions { ConnectTimeout = TimeSpan.FromSeconds(9) }.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(new ConsulRegistryOptions { MinSessionTtl = TimeSpan.FromMilliseconds(500) }.Validate);
        new ConsulRegistryOptions().Validate(); // the defaults are valid
    }

    [Fact]
    public void FromEnvironment_reads_the_variables_the_Consul_CLI_reads()
    {
        var env = new Dictionary<string, string>
        {
            ["CONSUL_HTTP_ADDR"] = "consul.internal:8501",
            ["CONSUL_HTTP_SSL"] = "true",
            ["CONSUL_HTTP_TOKEN"] = "secret",
            ["CONSUL_TLS_SERVER_NAME"] = "server.dc1.consul",
            ["CONSUL_HTTP_SSL_VERIFY"] = "false",
        };
        var o = ConsulRegistryOptions.FromEnvironment("team-a", n => env.GetValueOrDefault(n));
        Assert.Equal(("https://consul.internal:8501", "secret", "server.dc1.consul", true, "team-a"), (o.Address, o.Token, o.ServerName, o.InsecureSkipVerify, o.Namespace));
        o.Validate();

        var plain = ConsulRegistryOptions.FromEnvironment(environment: n => n == "CONSUL_HTTP_ADDR" ? "127.0.0.1:8500" : null);
        Assert.Equal(("http://127.0.0.1:8500", null, false), (plain.Address, plain.Token, plain.InsecureSkipVerify));
        Assert.Equal("http://127.0.0.1:8500", ConsulRegistryOptions.FromEnvironment(environment: _ => null).Address);
    }

    [Theory]
    [InlineData("report", "report")]
    [InlineData("10.0.0.7-1700000000-1", "10.0.0.7-1700000000-1")]
    [InlineData("a:b@c", "a_3Ab_40c")]
    [InlineData("under_score", "under_5Fscore")]
    [InlineData("a..b", "a._2Eb")]
    [InlineData(".lead", "_2Elead")]
    [InlineData("ünï", "_C3_BCn_C3_AF")]
    [InlineData(" x ", "_20x_20")]
    [InlineData("a/b", "a_2Fb")]
    public void Names_escape_into_safe_key_segments_and_back(string name, string escaped)
    {
        Assert.Equal(escaped, ConsulKeys.Escape(name));
        Assert.Matches("^[A-Za-z0-9._-]+$", escaped);
        Assert.DoesNotContain("..", escaped, StringComparison.Ordinal);
        Assert.Equal(name, ConsulKeys.Unescape(escaped));
        var keys = new ConsulKeys("ns");
        Assert.Equal(name, ConsulKeys.Tail(keys.Meta(name), keys.MetaPrefix));
    }

    [Theory]
    [InlineData("_")]
    [InlineData("_4")]
    [InlineData("_ZZ")]
    [InlineData("sub/key")]
    public void Keys_this_registry_did_not_write_are_ignored(string tail)
    {
        Assert.Null(ConsulKeys.Tail("ns/tasks/meta/" + tail, "ns/tasks/meta/"));
    }
}
