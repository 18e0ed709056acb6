using System.Diagnostics;
using DistributedCron.Testing.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>Password authentication (requirepass) against the shared, password-protected server.</summary>
public sealed class RedisAuthTests(SharedTarget<RedisTarget> t, ITestOutputHelper output) : IClassFixture<SharedTarget<RedisTarget>>
{
    private RedisServer Server => t.Target.Server;

    [Fact]
    public async Task The_right_password_works()
    {
        await using var r = await Server.CreateRegistryAsync("auth-ok-" + Guid.NewGuid().ToString("N")[..8]);
        await r.PutTaskAsync(new TaskMeta { Name = "a", CronFormat = "* * * * *" });
        Assert.Single(await r.GetTasksAsync());
    }

    [Theory]
    [InlineData("wrong-password")]
    [InlineData(null)]
    public async Task A_wrong_or_missing_password_fails_fast_with_RegistryAuthenticationException(string? password)
    {
        // A long operation timeout: the failure must come from the refused AUTH, not from waiting.
        var mux = await Server.ConnectWithPasswordAsync(password, TimeSpan.FromSeconds(2));
        await using var r = new RedisRegistry(mux, new RedisRegistryOptions
        {
            Namespace = "auth-bad",
            OperationTimeout = TimeSpan.FromSeconds(30),
            DisposeMultiplexer = true,
        });
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => r.GetNodesAsync());
        output.WriteLine($"{sw.ElapsedMilliseconds} ms: {ex.Message}");
        Assert.Contains(Server.Endpoint, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => r.CanRunTaskAsync("a", DateTimeOffset.UtcNow, "n1"));
    }
}
