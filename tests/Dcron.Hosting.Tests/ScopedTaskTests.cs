using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DistributedCron.Hosting.Tests;

/// <summary>Tasks registered from DI run in a new scope per run, and the scope is disposed (asynchronously) after the run.</summary>
public sealed class ScopedTaskTests
{
    [Fact]
    public async Task EachRunGetsAFreshScopeThatIsDisposedAfterTheRun()
    {
        var journal = new Journal();
        await using var t = TestHost.Create(
            b => b.AddCronTask<ProbeTask>("probe", "* * * * * *"),
            services: s => s.AddSingleton(journal).AddScoped<ScopedResource>());
        await t.Host.StartAsync();
        await t.AdvanceUntilAsync(() => journal.RunCount >= 3, "three runs");
        await t.Host.StopAsync();

        var runs = journal.Runs;
        Assert.True(runs.Count >= 3);
        Assert.Equal(runs.Count, runs.Select(r => r.Task).Distinct().Count());
        Assert.Equal(runs.Count, runs.Select(r => r.Resource).Distinct().Count());
        Assert.All(runs, r => Assert.False(r.DisposedDuringRun, "the scope lives as long as the run"));
        // Every run ended before the host's stop returned, so every scope was disposed, through DisposeAsync.
        Assert.Equal(runs.Select(r => r.Resource).Order(), journal.AsyncDisposed.Order());
        Assert.Empty(journal.SyncDisposed);
    }

    [Fact]
    public async Task ADelegateTaskGetsTheScopedProvider()
    {
        var journal = new Journal();
        await using var t = TestHost.Create(
            b => b.AddCronTask("func", "* * * * * *", (sp, ctx) =>
            {
                journal.Record(new ProbeRun(0, sp.GetRequiredService<ScopedResource>().Id, false));
                return Task.CompletedTask;
            }),
            services: s => s.AddSingleton(journal).AddScoped<ScopedResource>());
        await t.Host.StartAsync();
        await t.AdvanceUntilAsync(() => journal.RunCount >= 2, "two runs");
        await t.Host.StopAsync();

        var runs = journal.Runs;
        Assert.Equal(runs.Count, runs.Select(r => r.Resource).Distinct().Count());
        Assert.Equal(runs.Select(r => r.Resource).Order(), journal.AsyncDisposed.Order());
    }

    [Fact]
    public void ATaskTypeIsRegisteredScopedUnlessItIsRegisteredAlready()
    {
        var services = new ServiceCollection().AddTransient<ProbeTask>();
        services.AddDcron(b => b.UseInMemory().AddCronTask<ProbeTask>("a", "* * * * *").AddCronTask<OtherTask>("b", "* * * * *"));
        Assert.Equal(ServiceLifetime.Transient, Assert.Single(services, d => d.ServiceType == typeof(ProbeTask)).Lifetime);
        Assert.Equal(ServiceLifetime.Scoped, Assert.Single(services, d => d.ServiceType == typeof(OtherTask)).Lifetime);
    }

    [Fact]
    public void BadTaskDeclarationsFailWhereTheyAreWritten()
    {
        var services = new ServiceCollection();
        var builder = services.AddDcron(b => b.UseInMemory());
        var name = Assert.Throws<ArgumentException>(() => builder.AddCronTask<ProbeTask>("bad name", "* * * * *"));
        Assert.Contains("bad name", name.Message, StringComparison.Ordinal);
        var cron = Assert.Throws<CronFormatException>(() => builder.AddCronTask<ProbeTask>("ok", "61 * * * *"));
        Assert.Equal("61 * * * *", cron.Expression);
        builder.AddCronTask<ProbeTask>("taken", "* * * * *");
        var dup = Assert.Throws<ArgumentException>(() => builder.AddOneShotCronTask<ProbeTask>("taken", "* * * * *"));
        Assert.Contains("'taken'", dup.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadTaskOptionsFailTheStartNamingTheTask()
    {
        await using var t = TestHost.Create(b => b.AddCronTask<ProbeTask>(
            "retrying", "* * * * *", new TaskOptions { Retry = new RetryOptions { MaxAttempts = 0 } }),
            services: s => s.AddSingleton(new Journal()).AddScoped<ScopedResource>());
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => t.Host.StartAsync());
        Assert.Contains("'retrying'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await t.Observer.GetNodesAsync());
    }

    internal sealed record ProbeRun(int Task, int Resource, bool DisposedDuringRun);

    internal sealed class Journal
    {
        private readonly List<ProbeRun> _runs = new();
        private readonly List<int> _async = new();
        private readonly List<int> _sync = new();

        public int RunCount
        {
            get
            {
                lock (_runs)
                {
                    return _runs.Count;
                }
            }
        }

        public IReadOnlyList<ProbeRun> Runs
        {
            get
            {
                lock (_runs)
                {
                    return _runs.ToArray();
                }
            }
        }

        public IReadOnlyList<int> AsyncDisposed
        {
            get
            {
                lock (_runs)
                {
                    return _async.ToArray();
                }
            }
        }

        public IReadOnlyList<int> SyncDisposed
        {
            get
            {
                lock (_runs)
                {
                    return _sync.ToArray();
                }
            }
        }

        public void Record(ProbeRun run)
        {
            lock (_runs)
            {
                _runs.Add(run);
            }
        }

        public void Disposed(int id, bool async)
        {
            lock (_runs)
            {
                (async ? _async : _sync).Add(id);
            }
        }
    }

    /// <summary>A scoped dependency that records how it was disposed.</summary>
    internal sealed class ScopedResource(Journal journal) : IAsyncDisposable, IDisposable
    {
        private static int s_next;

        public int Id { get; } = Interlocked.Increment(ref s_next);

        public bool IsDisposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            IsDisposed = true;
            journal.Disposed(Id, async: true);
            return ValueTask.CompletedTask;
        }

        public void Dispose()
        {
            IsDisposed = true;
            journal.Disposed(Id, async: false);
        }
    }

    internal sealed class OtherTask : ICronTask
    {
        public Task RunAsync(TaskContext context) => Task.CompletedTask;
    }

    internal sealed class ProbeTask(Journal journal, ScopedResource resource) : ICronTask
    {
        private static int s_next;

        private readonly int _id = Interlocked.Increment(ref s_next);

        public async Task RunAsync(TaskContext context)
        {
            await Task.Yield();
            journal.Record(new ProbeRun(_id, resource.Id, resource.IsDisposed));
        }
    }
}
