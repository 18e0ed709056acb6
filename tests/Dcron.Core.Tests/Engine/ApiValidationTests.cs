using Xunit;

namespace DistributedCron.Tests.Engine;

/// <summary>Options validated at construction and static API errors, each naming the bad value.</summary>
public sealed class ApiValidationTests
{
    public static TheoryData<string, Action<DcronOptions>> BadOptions => new()
    {
        { nameof(DcronOptions.Weight), o => o.Weight = 0 },
        { nameof(DcronOptions.HeartbeatInterval), o => o.HeartbeatInterval = TimeSpan.Zero },
        { nameof(DcronOptions.NodeTtl), o => o.NodeTtl = TimeSpan.FromMilliseconds(500) },
        { nameof(DcronOptions.NodeTtl), o => { o.HeartbeatInterval = TimeSpan.FromSeconds(5); o.NodeTtl = TimeSpan.FromSeconds(5); } },
        { nameof(DcronOptions.MisfireGrace), o => o.MisfireGrace = TimeSpan.FromSeconds(-1) },
        { nameof(DcronOptions.MisfireGrace), o => o.MisfireGrace = TimeSpan.Zero },
        { nameof(DcronOptions.CatchUpInterval), o => o.CatchUpInterval = TimeSpan.Zero },
        { nameof(DcronOptions.MaxPayloadBytes), o => o.MaxPayloadBytes = 0 },
        { nameof(DcronOptions.ShutdownTimeout), o => o.ShutdownTimeout = TimeSpan.FromSeconds(-1) },
        { nameof(DcronOptions.Strategy), o => o.Strategy = (AssignerStrategy)42 },
        { nameof(DcronOptions.MisfirePolicy), o => o.MisfirePolicy = (MisfirePolicy)42 },
        { nameof(DcronOptions.NodeId), o => o.NodeId = "bad id with spaces" },
        { nameof(DcronOptions.NodeId), o => o.NodeId = "" },
        { nameof(DcronOptions.NodeIp), o => o.NodeIp = "" },
        { nameof(DcronOptions.TimeZone), o => o.TimeZone = null! },
        { nameof(DcronOptions.TimeProvider), o => o.TimeProvider = null! },
        { nameof(DcronOptions.DynamicTaskOptions), o => o.DynamicTaskOptions = null! },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task ABadOptionThrowsAtConstructionNamingIt(string option, Action<DcronOptions> configure)
    {
        await using var registry = new InMemoryRegistry();
        var ex = Assert.ThrowsAny<ArgumentException>(() => new Dcron(registry, configure));
        Assert.Equal(option, ex.ParamName);
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultsAreValidAndTheNodeIdFollowsTheGoFormat()
    {
        await using var registry = new InMemoryRegistry();
        await using var dc = new Dcron(registry);
        Assert.Matches(@"^[0-9.]+-\d+-\d{4}$", dc.NodeId);
        Assert.True(DcronLimits.IsValidTaskName(dc.NodeId));
    }

    [Fact]
    public async Task StaticTaskErrorsAreTypedAndNameTheBadValue()
    {
        await using var registry = new InMemoryRegistry();
        await using var dc = new Dcron(registry);
        var cron = Assert.Throws<CronFormatException>(() => dc.AddFunc("ok", "61 * * * *", _ => Task.CompletedTask));
        Assert.Equal("61 * * * *", cron.Expression);

        var name = Assert.Throws<ArgumentException>(() => dc.AddFunc("bad/name", "* * * * *", _ => Task.CompletedTask));
        Assert.Equal("name", name.ParamName);
        Assert.Contains("bad/name", name.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => dc.AddFunc("", "* * * * *", _ => Task.CompletedTask));
        Assert.Throws<ArgumentException>(() => dc.AddFunc(new string('a', 201), "* * * * *", _ => Task.CompletedTask));
        Assert.Throws<ArgumentNullException>(() => dc.AddFunc("x", "* * * * *", null!));

        dc.AddFunc("dup", "* * * * *", _ => Task.CompletedTask);
        var exists = Assert.Throws<TaskExistsException>(() => dc.AddOneShotFunc("dup", "* * * * *", _ => Task.CompletedTask));
        Assert.Equal("dup", exists.TaskName);

        var retry = Assert.Throws<ArgumentOutOfRangeException>(() =>
            dc.AddFunc("r", "* * * * *", _ => Task.CompletedTask, new TaskOptions { Retry = new RetryOptions { MaxAttempts = 0 } }));
        Assert.Equal(nameof(RetryOptions.MaxAttempts), retry.ParamName);
        var timeout = Assert.Throws<ArgumentOutOfRangeException>(() =>
            dc.AddFunc("t", "* * * * *", _ => Task.CompletedTask, new TaskOptions { Timeout = TimeSpan.Zero }));
        Assert.Equal(nameof(TaskOptions.Timeout), timeout.ParamName);
        Assert.Equal(["dup"], dc.GetAllTasks());
    }

    [Fact]
    public async Task DynamicTaskErrorsAreTypedAndCheckedInTheRegistry()
    {
        await using var registry = new InMemoryRegistry();
        await using var dc = new Dcron(registry, o => o.MaxPayloadBytes = 16);
        await Assert.ThrowsAsync<CronFormatException>(() => dc.AddTaskMetaAsync(new TaskMeta { Name = "x", CronFormat = "nope" }));
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => dc.AddTaskMetaAsync(new TaskMeta { Name = "x", CronFormat = "* * * * *", Payload = new string('p', 17) }));
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => dc.AddTaskMetaAsync(new TaskMeta { Name = "no spaces", CronFormat = "* * * * *" }));
        Assert.Contains("no spaces", bad.Message, StringComparison.Ordinal);

        // Checked against the registry even before start.
        await registry.PutTaskAsync(new TaskMeta { Name = "taken", CronFormat = "* * * * *" });
        await Assert.ThrowsAsync<TaskExistsException>(() => dc.AddTaskMetaAsync(new TaskMeta { Name = "taken", CronFormat = "* * * * *" }));
        await registry.MarkTaskDeletedAsync("gone");
        await Assert.ThrowsAsync<TaskDeletedException>(() => dc.AddTaskMetaAsync(new TaskMeta { Name = "gone", CronFormat = "* * * * *" }));

        dc.AddFunc("static", "* * * * *", _ => Task.CompletedTask);
        await Assert.ThrowsAsync<TaskExistsException>(() => dc.AddTaskMetaAsync(new TaskMeta { Name = "static", CronFormat = "* * * * *" }));
    }

    [Fact]
    public void OffsetTimeProviderShiftsOnlyTheWallClock()
    {
        var fake = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(FakeCluster.Epoch);
        var skewed = new OffsetTimeProvider(fake, TimeSpan.FromSeconds(-3));
        Assert.Equal(FakeCluster.Epoch - TimeSpan.FromSeconds(3), skewed.GetUtcNow());
        Assert.Equal(fake.GetTimestamp(), skewed.GetTimestamp());
        var fired = false;
        using var timer = skewed.CreateTimer(_ => fired = true, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        fake.Advance(TimeSpan.FromSeconds(1));
        Assert.True(fired);
    }
}
