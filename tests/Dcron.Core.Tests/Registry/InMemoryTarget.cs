using DistributedCron.Testing.Conformance;
using Microsoft.Extensions.Time.Testing;

namespace DistributedCron.Tests.Registry;

/// <summary>
/// The conformance target for <see cref="InMemoryRegistry"/>: every test gets its own <see cref="InMemoryStore"/>
/// on its own <see cref="FakeTimeProvider"/>, so expiry is exact and instant, and tests never disturb each other.
/// Watch buffers are small, so the slow-consumer case really overflows into a snapshot.
/// </summary>
public sealed class InMemoryTarget : RegistryTestTarget
{
    /// <summary>The watch buffer of the clients the suite creates.</summary>
    public const int WatchBuffer = 64;

    private readonly InMemoryStore _shared = new();

    /// <inheritdoc />
    public override TimeSpan NodeTtl => TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public override TimeSpan ExpiryTolerance => TimeSpan.FromMilliseconds(500); // one poll step of the fake clock, with room

    /// <inheritdoc />
    public override TimeSpan EventTimeout => TimeSpan.FromSeconds(10); // real time; events arrive at once

    /// <inheritdoc />
    public override TimeSpan UnreachableTimeout => TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public override int SlowConsumerWrites => 2_000;

    /// <summary>A client of <paramref name="store"/> with the suite's options.</summary>
    public static InMemoryRegistry Client(InMemoryStore store, string @namespace) =>
        new(null, new InMemoryRegistryOptions { Store = store, Namespace = @namespace, WatchBufferCapacity = WatchBuffer });

    /// <inheritdoc />
    public override Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
        Task.FromResult<IRegistry>(Client(_shared, @namespace));

    /// <inheritdoc />
    public override Task<IRegistry> CreateUnreachableRegistryAsync(string @namespace, TimeSpan timeout, CancellationToken ct)
    {
        var down = new InMemoryStore { IsAvailable = false };
        return Task.FromResult<IRegistry>(Client(down, @namespace));
    }

    /// <inheritdoc />
    public override Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct) =>
        Task.FromResult(_shared.CountRecords(@namespace));

    /// <inheritdoc />
    public override ValueTask<RegistryTestScope> OpenScopeAsync(CancellationToken ct) => new(new FakeClockScope(this));

    /// <summary>One test's store and fake clock.</summary>
    private sealed class FakeClockScope(InMemoryTarget target) : RegistryTestScope(target)
    {
        private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        private InMemoryStore? _store;

        private InMemoryStore Store => _store ??= new InMemoryStore(_clock);

        public override TimeProvider Clock => _clock;

        public override Task<IRegistry> CreateRegistryAsync(string @namespace, CancellationToken ct) =>
            Task.FromResult<IRegistry>(Client(Store, @namespace));

        public override Task<long> CountServerRecordsAsync(string @namespace, CancellationToken ct) =>
            Task.FromResult(Store.CountRecords(@namespace));

        public override async Task ElapseAsync(TimeSpan duration, CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            _clock.Advance(duration);
            await Task.Yield(); // let watch readers run
        }
    }
}
