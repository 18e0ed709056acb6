using DistributedCron.Testing;
using DistributedCron.Testing.Consul;
using DistributedCron.Testing.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>
/// The conformance target on the Consul emulator, with ACLs on (so every case runs through the token path). Every
/// test gets its own emulator on its own <see cref="FakeTimeProvider"/>: session expiry follows Consul's timer
/// (TTL × 2, TTL at least 10 s) to the tick, and the suite's 10-20 s expiries pass in no real time. The registries
/// keep the real clock for timing heartbeat silence (a node whose key has not changed for its TTL is dropped before
/// its session expires): within a case's real seconds nobody goes silent, so these cases check the session path,
/// while <see cref="NodeLivenessTests"/> drives the silence rule on one fake clock shared with the emulator, and the
/// <c>Agent*</c> classes run the suite in real time, where both apply. (Sharing the fake clock here would race: the
/// cases stop advancing it as soon as their own reads agree, while a watch's blocking wait is timed from when the
/// emulator received it.) The server-restart case gets a real-clock emulator it stops and starts on the same port.
/// </summary>
public sealed class EmulatorTarget : RegistryTestTarget
{
    internal const string Token = "dcron-conformance-token";
    private ConsulEmulatorServer? _shared;

    /// <summary>Consul's minimum session TTL: what the registry uses for any shorter node TTL.</summary>
    public override TimeSpan NodeTtl => TimeSpan.FromSeconds(10);

    /// <summary>Consul reaps an unrenewed session at TTL × 2; a few polls of slack on the fake clock.</summary>
    public override TimeSpan ExpiryTolerance => TimeSpan.FromSeconds(11);

    /// <inheritdoc />
    public override TimeSpan UnreachableTimeout => TimeSpan.FromSeconds(1);

    /// <summary>The emulator the scope-less cases (authentication) use.</summary>
    public ConsulEmulatorServer Shared => _shared ?? throw new InvalidOperationException("Not started.");

    /// <summary>Options for an emulator with the suite's ACL token.</summary>
    public static ConsulEmulatorOptions EmulatorOptions(TimeProvider clock)
    {
        var o = new ConsulEmulatorOptions { TimeProvider = clock };
        o.Acl = new EmulatorAcl();
        o.Acl.Tokens[Token] = AclPolicy.WriteEverything();
        return o;
    }

    /// <summary>A client of <paramref name="emulator"/> in <paramref name="namespace"/>, with the suite's token.</summary>
    public static ConsulRegistry Client(ConsulEmulatorServer emulator, string @namespace, string? token = Token) =>
        new(new ConsulRegistryOptions { Address = emulator.Address, Namespace = @namespace, Token = token });

    /// <summary>Every record of a namespace: its keys and the sessions its nodes hold.</summary>
    public static long CountRecords(ConsulEmulatorServer emulator, string @namespace) =>
        emulator.State.List(@namespace + "/").Count + emulator.State.SessionNames().Count(n => n.StartsWith(@namespace + "/", StringComparison.Ordinal));

    /// <inheritdoc />
    public override async Task InitializeAsync() => _shared = await ConsulEmulatorServer.StartAsync(EmulatorOptions(TimeProvider.System));

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        if (_shared is not null)
        {
            await _shared.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public override Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) => Task.FromResult<IRegistry>(Client(Shared, @namespace));

    /// <inheritdoc />
    public override Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct) =>
        Task.FromResult(Endpoint("127.0.0.1", FreePort.Next(), @namespace, timeout)); // nothing listens there

    /// <inheritdoc />
    public override Task<IRegistry?> CreateRegistryForEndpointAsync(string host, int port, string @namespace, TimeSpan timeout, CancellationToken ct) =>
        Task.FromResult<IRegistry?>(Endpoint(host, port, @namespace, timeout));

    /// <inheritdoc />
    public override Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct) => Task.FromResult(CountRecords(Shared, @namespace));

    /// <inheritdoc />
    public override Task<IRegistry?> CreateWithWrongCredentialsAsync(string @namespace, CancellationToken ct) =>
        Task.FromResult<IRegistry?>(Client(Shared, @namespace, "not-the-token"));

    /// <inheritdoc />
    public override async Task<IRestartableServer?> StartDedicatedServerAsync(CancellationToken ct) =>
        new RestartableEmulator(await ConsulEmulatorServer.StartAsync(EmulatorOptions(TimeProvider.System), ct));

    /// <inheritdoc />
    public override async ValueTask<RegistryTestScope> OpenScopeAsync(CancellationToken ct)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        return new FakeClockScope(this, clock, await ConsulEmulatorServer.StartAsync(EmulatorOptions(clock), ct));
    }

    private static IRegistry Endpoint(string host, int port, string @namespace, TimeSpan timeout) =>
        new ConsulRegistry(new ConsulRegistryOptions
        {
            Address = $"http://{host}:{port}",
            Namespace = @namespace,
            Token = Token,
            RequestTimeout = timeout,
            ConnectTimeout = timeout < TimeSpan.FromSeconds(1) ? timeout : TimeSpan.FromSeconds(1),
        });

    /// <summary>One test's emulator and fake clock.</summary>
    private sealed class FakeClockScope(EmulatorTarget target, FakeTimeProvider clock, ConsulEmulatorServer emulator) : RegistryTestScope(target)
    {
        public override TimeProvider Clock => clock;

        public override Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) => Task.FromResult<IRegistry>(Client(emulator, @namespace));

        public override Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct) => Task.FromResult(CountRecords(emulator, @namespace));

        public override async Task ElapseAsync(TimeSpan duration, CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            clock.Advance(duration);
            await Task.Yield(); // let blocking queries the advance woke answer
        }

        public override async ValueTask DisposeAsync()
        {
            await emulator.DisposeAsync();
            await base.DisposeAsync();
        }
    }

    /// <summary>An emulator the restart case stops and starts on the same port, state kept.</summary>
    private sealed class RestartableEmulator(ConsulEmulatorServer emulator) : IRestartableServer
    {
        public Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) => Task.FromResult<IRegistry>(Client(emulator, @namespace));

        public Task StopAsync(CancellationToken ct) => emulator.StopAsync();

        public Task StartAsync(CancellationToken ct) => emulator.StartAsync(ct);

        public ValueTask DisposeAsync() => emulator.DisposeAsync();
    }
}
