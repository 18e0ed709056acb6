using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace DistributedCron.Hosting.Tests;

/// <summary>
/// A generic host with only what a test gives it: an in-memory configuration, a fake clock shared by the node and an
/// <see cref="InMemoryStore"/> the test observes through its own registry client.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Settings that keep a fake-clock node registered however the test steps time.</summary>
    public static readonly IReadOnlyDictionary<string, string?> StableTiming = new Dictionary<string, string?>
    {
        ["Dcron:NodeTtl"] = "00:10:00",
        ["Dcron:HeartbeatInterval"] = "00:00:01",
    };

    private TestHost(IHost host, FakeTimeProvider time, InMemoryStore store)
    {
        Host = host;
        Time = time;
        Store = store;
        Observer = new InMemoryRegistry(store);
    }

    public IHost Host { get; }

    public FakeTimeProvider Time { get; }

    public InMemoryStore Store { get; }

    /// <summary>A second client of the node's store: what the registry "server" holds.</summary>
    public InMemoryRegistry Observer { get; }

    public IServiceProvider Services => Host.Services;

    public Dcron Dcron => Services.GetRequiredService<Dcron>();

    /// <summary>
    /// Builds a host whose node runs on the test's store (unless <paramref name="dcron"/> chooses another registry).
    /// </summary>
    public static TestHost Create(
        Action<DcronBuilder> dcron,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        string? sectionPath = null)
    {
        var time = new FakeTimeProvider(Epoch);
        var store = new InMemoryStore(time);
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings ?? StableTiming);
        builder.Services.AddSingleton<TimeProvider>(time);
        services?.Invoke(builder.Services);
        void Configure(DcronBuilder b)
        {
            b.UseInMemory(o => o.Store = store);
            dcron(b);
        }

        if (sectionPath is null)
        {
            builder.Services.AddDcron(Configure);
        }
        else
        {
            builder.Services.AddDcron(sectionPath, Configure);
        }

        return new TestHost(builder.Build(), time, store);
    }

    /// <summary>Steps the fake clock a second at a time until <paramref name="condition"/> holds (real-time deadline).</summary>
    public async Task AdvanceUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait.Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {Wait.Deadline} waiting for {what}.");
            }

            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is IAsyncDisposable a)
        {
            await a.DisposeAsync();
        }
        else
        {
            Host.Dispose();
        }

        await Observer.DisposeAsync();
    }
}

/// <summary>Real-time waits with a deadline; a test never relies on a bare sleep.</summary>
internal static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {Deadline} waiting for {what}.");
            }

            await Task.Delay(10);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);
}
