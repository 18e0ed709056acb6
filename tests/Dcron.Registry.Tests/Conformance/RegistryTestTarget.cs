using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>
/// What a backend provides to the conformance suite: a way to make clients of its (shared, already running)
/// server, the timings that server honours, and a few hooks. A backend's test project subclasses this once and
/// shares the instance through <see cref="SharedTarget{TTarget}"/>; then it subclasses each conformance class with
/// a one-line constructor.
/// </summary>
/// <example>
/// <code>
/// public sealed class RedisTarget : RegistryTestTarget { ... }
/// public sealed class RedisMembershipTests(SharedTarget&lt;RedisTarget&gt; t)
///     : MembershipConformanceTests(t.Target), IClassFixture&lt;SharedTarget&lt;RedisTarget&gt;&gt;;
/// </code>
/// </example>
/// <remarks>
/// Tests of one class run one after another, classes run in parallel; every test works in fresh random
/// namespaces, so the shared server is never stopped by a test. Tests that need to stop a server use
/// <see cref="StartDedicatedServerAsync"/>.
/// </remarks>
public abstract class RegistryTestTarget : IAsyncLifetime
{
    /// <summary>A new client, with its own connection, working in <paramref name="namespace"/> of the shared server.</summary>
    public abstract Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct);

    /// <summary>
    /// A client configured with an operation timeout of <paramref name="timeout"/> that points at a server that is
    /// down (for example a closed port on 127.0.0.1). Its calls must fail with
    /// <see cref="RegistryUnavailableException"/> within the timeout.
    /// </summary>
    public abstract Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct);

    /// <summary>
    /// How many records (keys, znodes, hash fields…) the server holds under <paramref name="namespace"/>: the
    /// bounded-storage case counts before and after 10,000 claims. Count every kind of record the backend writes
    /// (fire states, lock keys, history…), so that growth of any of them shows.
    /// </summary>
    public abstract Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct);

    /// <summary>A TTL this backend honours that keeps the tests short (etcd's minimum lease is 2 s, Consul's session TTL 10 s).</summary>
    public virtual TimeSpan NodeTtl => TimeSpan.FromSeconds(2);

    /// <summary>How long after its TTL an unrefreshed node may still be listed (Consul may wait up to 2 × TTL).</summary>
    public virtual TimeSpan ExpiryTolerance => TimeSpan.FromSeconds(2);

    /// <summary>How long a watch may take to deliver a change (or a resync snapshot that contains it).</summary>
    public virtual TimeSpan EventTimeout => TimeSpan.FromSeconds(10);

    /// <summary>The operation timeout given to <see cref="CreateUnreachableRegistryAsync"/>.</summary>
    public virtual TimeSpan UnreachableTimeout => TimeSpan.FromSeconds(2);

    /// <summary>The deadline of one whole test: a hung backend fails the test instead of hanging the run.</summary>
    public virtual TimeSpan TestTimeout => TimeSpan.FromMinutes(2);

    /// <summary>How many successive claims the bounded-storage case makes (conformance.md case 26: 10,000).</summary>
    public virtual int BoundedStorageClaims => 10_000;

    /// <summary>How many writes the slow-consumer case makes while a watch is not read (at least the watch's buffer, for backends that buffer).</summary>
    public virtual int SlowConsumerWrites => 1_000;

    /// <summary>
    /// Opens the world one test runs in. The default shares the server and the real clock; a target with a fake
    /// clock (InMemoryRegistry) returns a scope with its own server and clock, so tests advancing time never
    /// disturb each other.
    /// </summary>
    public virtual ValueTask<RegistryTestScope> OpenScopeAsync(CancellationToken ct) => new(new RegistryTestScope(this));

    /// <summary>
    /// Optional (used by <see cref="AuthenticationConformanceTests"/> only): a client of the shared server with wrong
    /// credentials, or null when the server has no authentication configured.
    /// </summary>
    public virtual Task<IRegistry?> CreateWithWrongCredentialsAsync(string @namespace, CancellationToken ct) =>
        Task.FromResult<IRegistry?>(null);

    /// <summary>
    /// Optional (used by <see cref="ServerRestartConformanceTests"/> only): starts a server of the test's own that it
    /// may stop and start again with the same data, or null when the backend cannot.
    /// </summary>
    public virtual Task<IRestartableServer?> StartDedicatedServerAsync(CancellationToken ct) =>
        Task.FromResult<IRestartableServer?>(null);

    /// <summary>
    /// Optional (used by <see cref="UnresponsiveServerConformanceTests"/> only): a client with operation timeout
    /// <paramref name="timeout"/> pointing at <paramref name="host"/>:<paramref name="port"/>, where the suite runs
    /// a listener that accepts connections and never answers. Null when the backend has no network client.
    /// </summary>
    public virtual Task<IRegistry?> CreateRegistryForEndpointAsync(string host, int port, string @namespace, TimeSpan timeout, CancellationToken ct) =>
        Task.FromResult<IRegistry?>(null);

    /// <summary>Starts the shared server (once for all test classes of the run).</summary>
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Stops the shared server.</summary>
    public virtual Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// The world of one test: where its registries come from, how server time passes, and the server's record count.
/// The default delegates to the target and uses real time.
/// </summary>
public class RegistryTestScope : IAsyncDisposable
{
    /// <summary>Creates a scope over <paramref name="target"/>.</summary>
    public RegistryTestScope(RegistryTestTarget target) => Target = target;

    /// <summary>The target.</summary>
    public RegistryTestTarget Target { get; }

    /// <summary>The clock deadlines on server time are measured with (the real clock by default).</summary>
    public virtual TimeProvider Clock => TimeProvider.System;

    /// <summary>A new client of the scope's server in <paramref name="namespace"/>.</summary>
    public virtual Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) => Target.CreateRegistryAsync(@namespace, ct);

    /// <summary>See <see cref="RegistryTestTarget.CreateUnreachableRegistryAsync"/>.</summary>
    public virtual Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct) =>
        Target.CreateUnreachableRegistryAsync(@namespace, timeout, ct);

    /// <summary>See <see cref="RegistryTestTarget.CountServerRecordsAsync"/>.</summary>
    public virtual Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct) => Target.CountServerRecordsAsync(@namespace, ct);

    /// <summary>Lets <paramref name="duration"/> of server time pass (real servers: waits that long; fake clocks: advances).</summary>
    public virtual Task ElapseAsync(TimeSpan duration, CancellationToken ct) => Task.Delay(duration, ct);

    /// <summary>Releases what the scope holds.</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A server a test owns: it may stop it and start it again with the same data (conformance.md case 9).</summary>
public interface IRestartableServer : IAsyncDisposable
{
    /// <summary>A new client of this server in <paramref name="namespace"/>.</summary>
    Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct);

    /// <summary>Stops the server (gracefully; data persists).</summary>
    Task StopAsync(CancellationToken ct);

    /// <summary>Starts it again on the same address with the same data, and returns once it serves requests.</summary>
    Task StartAsync(CancellationToken ct);
}

/// <summary>
/// An xunit class fixture that hands every conformance class of a backend the same <typeparamref name="TTarget"/>
/// (one shared server per run): the first fixture initializes it, the last one disposed disposes it.
/// </summary>
public sealed class SharedTarget<TTarget> : IAsyncLifetime
    where TTarget : RegistryTestTarget, new()
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static TTarget? _shared;
    private static int _users;

    /// <summary>The shared target (valid between <see cref="InitializeAsync"/> and <see cref="DisposeAsync"/>).</summary>
    public TTarget Target => _shared ?? throw new InvalidOperationException("The shared target is not initialized.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_shared is null)
            {
                var target = new TTarget();
                await target.InitializeAsync().ConfigureAwait(false);
                _shared = target;
            }

            _users++;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (--_users == 0 && _shared is { } target)
            {
                _shared = null;
                await target.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
