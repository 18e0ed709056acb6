using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace DistributedCron.Hosting.Tests;

/// <summary>Settings come from configuration; a bad one fails the host's start with a message naming its key.</summary>
public sealed class ConfigurationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Weight", "0", "Dcron:Weight must be at least 1" },
        { "HeartbeatInterval", "00:00:00", "Dcron:HeartbeatInterval must be between" },
        { "NodeTtl", "00:00:00.001", "Dcron:NodeTtl must be between" },
        { "MisfireGrace", "00:00:00", "Dcron:MisfireGrace must be between" },
        { "CatchUpInterval", "00:00:00", "Dcron:CatchUpInterval must be between" },
        { "MaxPayloadBytes", "0", "Dcron:MaxPayloadBytes must be between" },
        { "ShutdownTimeout", "-00:00:01", "Dcron:ShutdownTimeout must be between" },
        { "NodeId", "has spaces", "Dcron:NodeId 'has spaces' is illegal" },
        { "NodeIp", "1.2.3.4 5", "Dcron:NodeIp '1.2.3.4 5' is illegal" },
        { "TimeZone", "Mars/Olympus_Mons", "Dcron:TimeZone: Time zone 'Mars/Olympus_Mons' was not found" },
        { "Strategy", "42", "Dcron:Strategy '42' is not a strategy" },
        { "MisfirePolicy", "42", "Dcron:MisfirePolicy '42' is not a misfire policy" },
        // Values the binder cannot convert: its own error names the key.
        { "NodeTtl", "soon", "'Dcron:NodeTtl'" },
        { "Strategy", "Random", "'Dcron:Strategy'" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task ABadSettingFailsTheStartNamingItsKey(string key, string value, string expected)
    {
        await using var t = TestHost.Create(_ => { }, Settings((key, value)));
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => t.Host.StartAsync());
        Assert.True(ex is OptionsValidationException or InvalidOperationException, $"unexpected {ex.GetType()}: {ex}");
        Assert.Contains(expected, Messages(ex), StringComparison.Ordinal);
        Assert.Empty(await t.Observer.GetNodesAsync());
    }

    [Fact]
    public async Task NodeTtlMustExceedTheHeartbeatInterval()
    {
        await using var t = TestHost.Create(_ => { }, Settings(("NodeTtl", "00:00:02"), ("HeartbeatInterval", "00:00:02")));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => t.Host.StartAsync());
        Assert.Contains("Dcron:NodeTtl must exceed Dcron:HeartbeatInterval", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryBadKeyIsNamedAtOnce()
    {
        await using var t = TestHost.Create(_ => { }, Settings(("Weight", "-1"), ("MisfireGrace", "00:00:00"), ("TimeZone", "Nowhere/Land")));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => t.Host.StartAsync());
        Assert.Equal(3, ex.Failures.Count());
        Assert.Contains("Dcron:Weight", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Dcron:MisfireGrace", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Dcron:TimeZone", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACustomSectionIsReadAndNamedInErrors()
    {
        await using var t = TestHost.Create(_ => { }, new Dictionary<string, string?> { ["Scheduling:Cron:Weight"] = "0" }, sectionPath: "Scheduling:Cron");
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => t.Host.StartAsync());
        Assert.Contains("Scheduling:Cron:Weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeSettingsAreValidatedLikeConfiguration()
    {
        await using var t = TestHost.Create(b => b.Configure(o => o.Weight = 0));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => t.Host.StartAsync());
        Assert.Contains("Dcron:Weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AValueOnlyTheNodeRejectsIsStillNamedByItsKey()
    {
        await using var t = TestHost.Create(b => b.ConfigureNode((_, o) => o.DynamicTaskOptions = null!));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => t.Host.StartAsync());
        Assert.Contains("Dcron:DynamicTaskOptions", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<ArgumentException>(ex.InnerException);
    }

    [Fact]
    public async Task RegistryOptionsAreValidatedUnderTheirOwnSection()
    {
        var settings = new Dictionary<string, string?>(TestHost.StableTiming) { ["Dcron:InMemory:Namespace"] = "has space" };
        await using var t = TestHost.Create(_ => { }, settings);
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => t.Host.StartAsync());
        Assert.Contains("Dcron:InMemory:Namespace", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutARegistryTheStartSaysHowToChooseOne()
    {
        var services = new ServiceCollection();
        services.AddDcron();
        await using var sp = services.BuildServiceProvider();
        var ex = Assert.Throws<InvalidOperationException>(() => sp.GetRequiredService<Dcron>());
        Assert.Contains("UseInMemory()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SettingsAreBoundFromConfigurationAndReachTheNode()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dcron:NodeId"] = "worker-7",
            ["Dcron:NodeIp"] = "10.1.2.3",
            ["Dcron:Weight"] = "3",
            ["Dcron:Strategy"] = "weighted",
            ["Dcron:HeartbeatInterval"] = "00:00:02",
            ["Dcron:NodeTtl"] = "00:10:00",
            ["Dcron:TimeZone"] = "America/New_York",
            ["Dcron:MisfirePolicy"] = "FireAll",
            ["Dcron:MisfireGrace"] = "00:05:00",
            ["Dcron:CatchUpInterval"] = "00:00:30",
            ["Dcron:MaxPayloadBytes"] = "1024",
            ["Dcron:ShutdownTimeout"] = "00:00:07",
            ["Dcron:InMemory:WatchBufferCapacity"] = "64",
        };
        await using var t = TestHost.Create(_ => { }, settings);
        var o = t.Services.GetRequiredService<IOptions<DcronHostingOptions>>().Value;
        Assert.Equal(("worker-7", "10.1.2.3", 3, AssignerStrategy.Weighted), (o.NodeId, o.NodeIp, o.Weight, o.Strategy));
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(10)), (o.HeartbeatInterval, o.NodeTtl));
        Assert.Equal(("America/New_York", MisfirePolicy.FireAll, TimeSpan.FromMinutes(5)), (o.TimeZone, o.MisfirePolicy, o.MisfireGrace));
        Assert.Equal((TimeSpan.FromSeconds(30), 1024, TimeSpan.FromSeconds(7)), (o.CatchUpInterval, o.MaxPayloadBytes, o.ShutdownTimeout));
        Assert.Equal(64, t.Services.GetRequiredService<IOptions<InMemoryRegistryOptions>>().Value.WatchBufferCapacity);

        var node = new DcronOptions();
        o.ApplyTo(node);
        Assert.Equal(("worker-7", "10.1.2.3", 3), (node.NodeId, node.NodeIp, node.Weight));
        Assert.Equal(TimeSpan.FromSeconds(7), node.ShutdownTimeout);
        Assert.NotEqual(TimeZoneInfo.Utc, node.TimeZone);
        Assert.Contains("New_York", node.TimeZone.Id, StringComparison.Ordinal);

        await t.Host.StartAsync();
        Assert.Equal("worker-7", t.Dcron.NodeId);
        var registered = Assert.Single(await t.Observer.GetNodesAsync());
        Assert.Equal(("worker-7", "10.1.2.3", 3), (registered.Id, registered.Ip, registered.Weight));
        await t.Host.StopAsync();
    }

    [Fact]
    public void EmptyIdsMeanGeneratedAndTheDefaultsAreTheNodes()
    {
        var o = new DcronHostingOptions { NodeId = "", NodeIp = " " };
        var node = new DcronOptions();
        o.ApplyTo(node);
        Assert.Null(node.NodeId);
        Assert.Null(node.NodeIp);
        var defaults = new DcronOptions();
        Assert.Equal(
            (defaults.Strategy, defaults.Weight, defaults.HeartbeatInterval, defaults.NodeTtl, defaults.TimeZone, defaults.MisfirePolicy),
            (node.Strategy, node.Weight, node.HeartbeatInterval, node.NodeTtl, node.TimeZone, node.MisfirePolicy));
        Assert.Equal(
            (defaults.MisfireGrace, defaults.CatchUpInterval, defaults.MaxPayloadBytes, defaults.ShutdownTimeout),
            (node.MisfireGrace, node.CatchUpInterval, node.MaxPayloadBytes, node.ShutdownTimeout));
    }

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] values)
    {
        var d = new Dictionary<string, string?>(TestHost.StableTiming);
        foreach (var (k, v) in values)
        {
            d[$"Dcron:{k}"] = v;
        }

        return d;
    }

    private static string Messages(Exception ex) => ex is AggregateException a
        ? string.Join(" | ", a.Flatten().InnerExceptions.Select(e => e.Message))
        : ex.Message + (ex.InnerException is { } inner ? " | " + Messages(inner) : "");
}
