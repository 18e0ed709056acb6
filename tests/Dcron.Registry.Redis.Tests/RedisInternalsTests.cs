using DistributedCron.Registry.Redis.Client;
using DistributedCron.Registry.Redis.Watch;
using Xunit;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>The stored and published formats, as facts.</summary>
public sealed class RedisInternalsTests
{
    [Theory]
    [InlineData("1700000000000:1:node-1", 1700000000000, 1, "node-1")]
    [InlineData("-5000:42:a:b:c", -5000, 42, "a:b:c")] // an owner may contain ':'; instants before 1970 are negative
    [InlineData("0:9007199254740991:", 0, 9007199254740991, "")]
    public void A_fire_state_field_parses(string stored, long ms, long token, string owner)
    {
        var s = RedisRegistry.ParseState("t", stored, null);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(ms), s.LastScheduledAt);
        Assert.Equal(token, s.FencingToken);
        Assert.Equal(owner, s.Owner);
        Assert.Null(s.LastOutcome);
        Assert.True(s.IsRunning);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("x:1:n")]
    [InlineData("1:y:n")]
    public void A_corrupt_fire_state_field_throws_RegistryException_naming_it(string stored)
    {
        var ex = Assert.Throws<RegistryException>(() => RedisRegistry.ParseState("t", stored, null));
        Assert.Contains("'t'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_as_cjson_writes_it_parses()
    {
        var m = WatchMessage.Parse("""{"k":"u","id":"n\/1","r":12,"d":"{\"id\":\"n\/1\"}"}""");
        Assert.Equal(new WatchMessage(12, "u", "n/1", """{"id":"n/1"}"""), m);
        Assert.Equal(new WatchMessage(3, "c", "", null), WatchMessage.Parse("""{"r":3,"k":"c","id":""}"""));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"k":"u"}""")]
    [InlineData("""{"r":"1","k":"u"}""")]
    public void Anything_else_is_a_FormatException(string text) =>
        Assert.Throws<FormatException>(() => WatchMessage.Parse(text));

    [Fact]
    public void Non_redis_exceptions_are_not_mapped() =>
        Assert.Null(RedisErrors.Map(new InvalidOperationException("not redis"), "h:1", "op"));

    [Fact]
    public void Options_are_validated_naming_the_option()
    {
        Assert.Equal("Namespace", Assert.Throws<ArgumentException>(() => new RedisRegistryOptions { Namespace = "a{b}" }.Validate()).ParamName);
        Assert.Equal("Namespace", Assert.Throws<ArgumentException>(() => new RedisRegistryOptions { Namespace = "" }.Validate()).ParamName);
        Assert.Equal("OperationTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisRegistryOptions { OperationTimeout = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal("Database", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisRegistryOptions { Database = -2 }.Validate()).ParamName);
        new RedisRegistryOptions().Validate();
    }
}
