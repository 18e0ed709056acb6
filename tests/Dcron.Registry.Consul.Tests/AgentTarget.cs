using DistributedCron.Registry.Consul.Client;
using DistributedCron.Testing;
using DistributedCron.Testing.Conformance;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>
/// The conformance target on a real Consul agent, configured the way the Consul CLI is: <c>CONSUL_HTTP_ADDR</c>
/// (required; without it the <c>Agent*</c> classes are reported as skipped), <c>CONSUL_HTTP_TOKEN</c>,
/// <c>CONSUL_CACERT</c>, <c>CONSUL_CLIENT_CERT</c>/<c>KEY</c>, <c>CONSUL_TLS_SERVER_NAME</c>. The token needs
/// <c>key_prefix "dct-" { policy = "write" }</c> and <c>session_prefix "" { policy = "write" }</c>. Real time is
/// used: sessions last 10 s and Consul reaps them up to 2 × TTL later, so the membership cases take a few minutes.
/// </summary>
public sealed class AgentTarget : RegistryTestTarget
{
    /// <summary>Consul's minimum session TTL.</summary>
    public override TimeSpan NodeTtl => TimeSpan.FromSeconds(10);

    /// <summary>Consul's timer runs TTL × 2, and the reap is retried with back-off.</summary>
    public override TimeSpan ExpiryTolerance => TimeSpan.FromSeconds(15);

    /// <inheritdoc />
    public override TimeSpan UnreachableTimeout => TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public override TimeSpan TestTimeout => TimeSpan.FromMinutes(4);

    /// <summary>The options from the environment for <paramref name="namespace"/>.</summary>
    public static ConsulRegistryOptions Options(string @namespace) => ConsulRegistryOptions.FromEnvironment(@namespace);

    /// <inheritdoc />
    public override Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
        Task.FromResult<IRegistry>(new ConsulRegistry(Options(@namespace)));

    /// <inheritdoc />
    public override Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct) =>
        Task.FromResult<IRegistry>(new ConsulRegistry(new ConsulRegistryOptions
        {
            Address = $"http://127.0.0.1:{FreePort.Next()}",
            Namespace = @namespace,
            RequestTimeout = timeout,
            ConnectTimeout = timeout < TimeSpan.FromSeconds(1) ? timeout : TimeSpan.FromSeconds(1),
        }));

    /// <inheritdoc />
    public override async Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct)
    {
        var o = Options(@namespace);
        o.Validate();
        await using var client = new ConsulHttpClient(o, NullLogger.Instance);
        var keys = await client.KeysAsync(@namespace + "/", ct);
        var sessions = await client.ListSessionsAsync(ct);
        return keys.Count + sessions.Count(s => s.Name?.StartsWith(@namespace + "/", StringComparison.Ordinal) == true);
    }

    /// <inheritdoc />
    public override Task<IRegistry?> CreateWithWrongCredentialsAsync(string @namespace, CancellationToken ct)
    {
        var o = Options(@namespace);
        o.Token = Guid.NewGuid().ToString(); // a SecretID no server knows: "ACL not found"
        return Task.FromResult<IRegistry?>(new ConsulRegistry(o));
    }
}
