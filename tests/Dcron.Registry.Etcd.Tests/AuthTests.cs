using System.Diagnostics;
using DistributedCron.Registry.Etcd.Tests.Infrastructure;
using DistributedCron.Testing.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>
/// etcd with auth enabled through the gateway: root, a user "app" with a read-write role on <c>/authns/</c> only,
/// and a user "norole" without any role. Tokens expire after 1 s without use (<c>--auth-token-ttl 1</c>).
/// </summary>
public sealed class AuthEtcdFixture : IAsyncLifetime
{
    public const string Namespace = "authns";

    public EtcdCluster Cluster { get; private set; } = null!;

    public EtcdAdmin Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await EtcdCluster.StartAsync(1, extraArgs: ["--auth-token-ttl", "1", "--bcrypt-cost", "4"]);
        Admin = new EtcdAdmin(Cluster.Endpoints[0]);
        await Admin.EnableAuthAsync("root-pw", "app", "app-pw", "dcron-app", $"/{Namespace}/");
        await Admin.AddUserWithPrefixAsync("norole", "norole-pw", "unused", prefix: null);
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Cluster.DisposeAsync();
    }

    public EtcdRegistry Registry(string? user, string? password, string ns = Namespace, TimeSpan? timeout = null)
    {
        var o = Cluster.Options(ns, timeout ?? TimeSpan.FromSeconds(5));
        o.Username = user;
        o.Password = password;
        return new EtcdRegistry(o);
    }
}

public sealed class AuthTests(AuthEtcdFixture etcd, ITestOutputHelper output) : IClassFixture<AuthEtcdFixture>
{
    private static readonly DateTimeOffset T0 = new(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [Fact]
    public async Task Wrong_password_fails_at_once_with_a_clear_authentication_error()
    {
        await using var r = etcd.Registry("app", "wrong-pw", timeout: TimeSpan.FromSeconds(10));
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => r.GetNodesAsync(_ct));
        output.WriteLine($"{sw.Elapsed.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), "an authentication error is not a timeout");
        Assert.Contains("'app'", ex.Message);
        Assert.Contains("invalid user ID or password", ex.Message);
        Assert.Contains(etcd.Cluster.Endpoints[0], ex.Message);

        await using var unknown = etcd.Registry("nobody", "x");
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => unknown.RegisterNodeAsync(new Node { Id = "n" }, TimeSpan.FromSeconds(5), _ct));
    }

    [Fact]
    public async Task No_credentials_against_an_auth_enabled_server_say_so()
    {
        await using var r = etcd.Registry(null, null);
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => r.GetTasksAsync(_ct));
        Assert.Contains("Username", ex.Message);
    }

    [Fact]
    public async Task The_right_credentials_work_for_every_kind_of_call_and_watch()
    {
        await using var r = etcd.Registry("app", "app-pw");
        await using var nodes = await NodeWatchFolder.StartAsync(r, TimeSpan.FromSeconds(10), _ct);
        await r.RegisterNodeAsync(new Node { Id = "auth-n1" }, TimeSpan.FromSeconds(5), _ct);
        await r.HeartbeatAsync("auth-n1", _ct);
        await r.UpdateNodeStatusAsync("auth-n1", NodeStatus.Working, _ct);
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(new TaskMeta { Name = "auth-job", CronFormat = "@every 1s" }, _ct));
        var claim = await r.CanRunTaskAsync("auth-job", T0, "auth-n1", _ct);
        Assert.True(claim.Granted);
        await r.CompleteFireAsync(claim, new FireOutcome { Status = FireStatus.Succeeded }, _ct);
        await nodes.WaitUntilAsync(v => v.TryGetValue("auth-n1", out var n) && n.Status == NodeStatus.Working, TimeSpan.FromSeconds(10), "watch with a token", _ct);
        await r.UnregisterNodeAsync("auth-n1", _ct); // revoking a lease needs write permission on its keys
        await r.ForceCleanupAllTasksAsync(_ct);
    }

    [Fact]
    public async Task A_user_without_a_role_on_the_namespace_is_refused_and_its_watch_ends_with_the_error()
    {
        await using var norole = etcd.Registry("norole", "norole-pw");
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => norole.GetNodesAsync(_ct));
        output.WriteLine(ex.Message);
        Assert.Contains("permission denied", ex.Message);
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => norole.CanRunTaskAsync("job", T0, "n", _ct));

        // "app" has a role on /authns/ only: another namespace is refused too.
        await using var elsewhere = etcd.Registry("app", "app-pw", ns: "otherns");
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => elsewhere.PutTaskAsync(new TaskMeta { Name = "x", CronFormat = "* * * * *" }, _ct));
        await Assert.ThrowsAsync<RegistryAuthenticationException>(async () =>
        {
            await foreach (var _ in elsewhere.WatchTasksAsync(_ct))
            {
            }
        });
    }

    [Fact]
    public async Task An_expired_token_is_renewed_transparently()
    {
        await using var r = etcd.Registry("app", "app-pw");
        await r.PutTaskAsync(new TaskMeta { Name = "renew", CronFormat = "@every 1s" }, _ct);
        await Task.Delay(TimeSpan.FromSeconds(2.5), _ct); // the server's token TTL is 1 s: let the token expire
        Assert.Contains("renew", (await r.GetTasksAsync(_ct)).Keys);

        // A change of the auth store (a new user) also invalidates older tokens on some versions: still transparent.
        await etcd.Admin.AddUserWithPrefixAsync("late-" + Guid.NewGuid().ToString("N")[..6], "pw", "late-role-" + Guid.NewGuid().ToString("N")[..6], "/late/", _ct);
        await r.ForceCleanupTaskAsync("renew", _ct);
        Assert.DoesNotContain("renew", (await r.GetTasksAsync(_ct)).Keys);
    }
}
