using DistributedCron.Registry.ZooKeeper.Client;
using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests;

/// <summary>Digest auth and the ACL on the cluster's znodes: other identities can neither read nor change them.</summary>
public sealed class AuthAclTests(SharedTarget<ZooKeeperTarget> shared) : IClassFixture<SharedTarget<ZooKeeperTarget>>, IAsyncLifetime
{
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(1));
    private readonly List<IAsyncDisposable> _owned = new();
    private readonly string _ns = "acl-" + Guid.NewGuid().ToString("N")[..10];

    private CancellationToken Ct => _cts.Token;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var o in _owned)
        {
            await o.DisposeAsync();
        }

        _cts.Dispose();
    }

    [Fact]
    public async Task Other_identities_cannot_read_or_modify_the_clusters_znodes()
    {
        var alice = Registry("alice", "secret");
        await alice.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(10), Ct);
        await alice.PutTaskAsync(new TaskMeta { Name = "job", CronFormat = "@hourly", Payload = "private" }, Ct);
        await alice.MarkTaskDeletedAsync("gone", Ct);
        var claim = await alice.CanRunTaskAsync("job", DateTimeOffset.UnixEpoch.AddDays(1), "n1", Ct);
        Assert.True(claim.Granted);

        foreach (var (who, other) in new[] { ("anonymous", Registry()), ("bob", Registry("bob", "pw")), ("alice with a wrong password", Registry("alice", "guess")) })
        {
            await Refused(who, () => other.GetTasksAsync(Ct));
            await Refused(who, () => other.PutTaskAsync(new TaskMeta { Name = "job", CronFormat = "* * * * * *" }, Ct));
            await Refused(who, () => other.MarkTaskDeletedAsync("job", Ct));
            await Refused(who, () => other.RemoveTaskDeletedAsync("gone", Ct));
            await Refused(who, () => other.ForceCleanupAllTasksAsync(Ct));
            await Refused(who, () => other.CanRunTaskAsync("job", DateTimeOffset.UnixEpoch.AddDays(2), "intruder", Ct));
            await Refused(who, () => other.UnregisterNodeAsync("n1", Ct));
            await Refused(who, () => other.UpdateNodeStatusAsync("n1", NodeStatus.Leaving, Ct));
            await Refused(who, () => other.RegisterNodeAsync(new Node { Id = "intruder" }, TimeSpan.FromSeconds(10), Ct));
        }

        // Nothing changed, as alice sees it.
        var tasks = await alice.GetTasksAsync(Ct);
        Assert.Equal("private", tasks["job"].Payload);
        Assert.Equal(["gone"], await alice.GetDeletedTaskNamesAsync(Ct));
        Assert.Equal(1, (await alice.GetFireStateAsync("job", Ct))!.FencingToken);
        var node = Assert.Single(await alice.GetNodesAsync(Ct));
        Assert.Equal(NodeStatus.Starting, node.Status);

        // Even the raw protocol, as bob, is refused on every znode of the layout.
        await using var raw = ZooKeeperTarget.RawClient(shared.Target.ConnectString, "bob", "pw");
        foreach (var dir in new[] { "nodes", "tasks", "fires" })
        {
            await Assert.ThrowsAsync<RegistryAuthenticationException>(() => raw.GetChildrenAsync($"/{_ns}/{dir}", false, Ct));
            await Assert.ThrowsAsync<RegistryAuthenticationException>(() => raw.CreateAsync($"/{_ns}/{dir}/x", null, ZkAcl.OpenUnsafe, ZkCreateMode.Persistent, Ct));
        }

        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => raw.SetDataAsync($"/{_ns}/tasks/job", [], -1, Ct));
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => raw.DeleteAsync($"/{_ns}/tasks/job", -1, Ct));
    }

    [Fact]
    public async Task A_custom_acl_can_let_everyone_read_but_only_the_owner_write()
    {
        var acl = new[] { ZooKeeperAclEntry.Digest("alice", "secret"), ZooKeeperAclEntry.World(ZooKeeperPermissions.Read) };
        var alice = Registry("alice", "secret", acl);
        await alice.PutTaskAsync(new TaskMeta { Name = "job", CronFormat = "@daily" }, Ct);

        var reader = Registry();
        Assert.Equal("@daily", (await reader.GetTasksAsync(Ct))["job"].CronFormat);
        await Refused("anonymous", () => reader.PutTaskAsync(new TaskMeta { Name = "job", CronFormat = "* * * * * *" }, Ct));
        await Refused("anonymous", () => reader.AddTaskAsync(new TaskMeta { Name = "other", CronFormat = "* * * * * *" }, Ct));
    }

    [Fact]
    public void Credentials_need_a_user_and_a_password()
    {
        var o = shared.Target.Options(_ns);
        o.Username = "alice";
        Assert.Equal("Username", Assert.Throws<ArgumentException>(() => new ZooKeeperRegistry(o)).ParamName);
        o.Username = "al:ice";
        o.Password = "x";
        Assert.Equal("Username", Assert.Throws<ArgumentException>(() => new ZooKeeperRegistry(o)).ParamName);
        o.Username = null;
        o.Password = null;
        o.Acl = [];
        Assert.Equal("Acl", Assert.Throws<ArgumentException>(() => new ZooKeeperRegistry(o)).ParamName);
    }

    private static async Task Refused(string who, Func<Task> call)
    {
        var ex = await Record.ExceptionAsync(call);
        Assert.True(ex is RegistryAuthenticationException, $"{who}: expected RegistryAuthenticationException, got {ex?.GetType().Name ?? "success"}: {ex?.Message}");
        Assert.Contains("NOAUTH", ex!.Message, StringComparison.Ordinal);
    }

    private ZooKeeperRegistry Registry(string? user = null, string? password = null, IReadOnlyList<ZooKeeperAclEntry>? acl = null)
    {
        var o = shared.Target.Options(_ns);
        o.Username = user;
        o.Password = password;
        o.Acl = acl;
        var r = new ZooKeeperRegistry(o);
        _owned.Add(r);
        return r;
    }
}
