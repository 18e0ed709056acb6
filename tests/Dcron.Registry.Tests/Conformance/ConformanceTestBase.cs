using System.Diagnostics;
using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>
/// The base of every conformance class: xunit makes one instance per test, so each test gets its own
/// <see cref="RegistryTestScope"/>, a deadline, fresh random namespaces, and clean-up of the registries and
/// watches it opened.
/// </summary>
public abstract class ConformanceTestBase : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = new();
    private readonly CancellationTokenSource _deadline;
    private RegistryTestScope? _scope;

    /// <summary>Creates the test for <paramref name="target"/>.</summary>
    protected ConformanceTestBase(RegistryTestTarget target)
    {
        Target = target ?? throw new ArgumentNullException(nameof(target));
        _deadline = new CancellationTokenSource(target.TestTimeout);
    }

    /// <summary>The backend under test.</summary>
    protected RegistryTestTarget Target { get; }

    /// <summary>This test's world (server, clock).</summary>
    protected RegistryTestScope Scope => _scope ?? throw new InvalidOperationException("The scope opens in InitializeAsync.");

    /// <summary>Cancelled when the test overruns <see cref="RegistryTestTarget.TestTimeout"/>.</summary>
    protected CancellationToken Ct => _deadline.Token;

    /// <summary>A base occurrence far in the future, in whole seconds (UTC).</summary>
    protected static DateTimeOffset T0 { get; } = new(2031, 3, 14, 15, 9, 26, TimeSpan.Zero);

    /// <inheritdoc />
    public async Task InitializeAsync() => _scope = await Target.OpenScopeAsync(Ct).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        // Watches first, then clients, then the scope; every failure surfaces.
        var errors = new List<Exception>();
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                errors.Add(ex);
            }
        }

        if (_scope is not null)
        {
            await _scope.DisposeAsync().ConfigureAwait(false);
        }

        _deadline.Dispose();
        if (errors.Count > 0)
        {
            throw new AggregateException("Clean-up failed.", errors);
        }
    }

    /// <summary>A fresh namespace no other test uses: lower-case letters, digits and '-'.</summary>
    protected static string NewNamespace() => "dct-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A new client of the scope's server in <paramref name="namespace"/>, disposed after the test.</summary>
    protected async Task<IRegistry> NewRegistryAsync(string @namespace)
    {
        var r = await Scope.CreateRegistryAsync(@namespace, Ct).ConfigureAwait(false);
        Own(r);
        return r;
    }

    /// <summary>Disposes <paramref name="resource"/> after the test (if still open; disposing twice must be harmless).</summary>
    protected T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    /// <summary>A node watch on <paramref name="registry"/>, started (its snapshot received) and disposed after the test.</summary>
    protected async Task<NodeWatchFolder> WatchNodesAsync(IRegistry registry) =>
        Own(await NodeWatchFolder.StartAsync(registry, Target.EventTimeout, Ct).ConfigureAwait(false));

    /// <summary>A task watch on <paramref name="registry"/>, started (its snapshot received) and disposed after the test.</summary>
    protected async Task<TaskWatchFolder> WatchTasksAsync(IRegistry registry) =>
        Own(await TaskWatchFolder.StartAsync(registry, Target.EventTimeout, Ct).ConfigureAwait(false));

    /// <summary>A node with every field set.</summary>
    protected static Node NewNode(string id, NodeStatus status = NodeStatus.Starting, int weight = 1) => new()
    {
        Id = id,
        Ip = "10.1.2.3",
        Hostname = "host-" + id,
        Status = status,
        Weight = weight,
        CreatedAt = new DateTimeOffset(2024, 5, 6, 7, 8, 9, 123, TimeSpan.Zero),
    };

    /// <summary>A task with the given cron format and payload.</summary>
    protected static TaskMeta NewTask(string name, string cron = "*/5 * * * * *", string? payload = null) =>
        new() { Name = name, CronFormat = cron, Payload = payload };

    /// <summary>Lets <paramref name="duration"/> of server time pass (nothing when it is not positive).</summary>
    protected Task ElapseAsync(TimeSpan duration) => duration > TimeSpan.Zero ? Scope.ElapseAsync(duration, Ct) : Task.CompletedTask;

    /// <summary>Polls <paramref name="condition"/> while server time passes; fails after <paramref name="serverTime"/> of the scope's clock.</summary>
    protected async Task WaitOnServerTimeAsync(Func<Task<bool>> condition, TimeSpan serverTime, string what)
    {
        var clock = Scope.Clock;
        var start = clock.GetTimestamp();
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(Target.NodeTtl.TotalMilliseconds / 20, 10, 250));
        while (true)
        {
            if (await condition().ConfigureAwait(false))
            {
                return;
            }

            if (clock.GetElapsedTime(start) > serverTime)
            {
                throw new TimeoutException($"Not true within {serverTime} of server time: {what}");
            }

            await Scope.ElapseAsync(poll, Ct).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="call"/> and requires it to finish within <paramref name="deadline"/> (real time).</summary>
    protected async Task<TimeSpan> WithinAsync(Func<Task> call, TimeSpan deadline, string what)
    {
        var sw = Stopwatch.StartNew();
        var task = call();
        var finished = await Task.WhenAny(task, Task.Delay(deadline, Ct)).ConfigureAwait(false);
        if (finished != task)
        {
            throw new TimeoutException($"Did not finish within {deadline}: {what}");
        }

        await task.ConfigureAwait(false);
        return sw.Elapsed;
    }

    /// <summary>Asserts that <paramref name="call"/> fails with <typeparamref name="TException"/> (or a subclass) within <paramref name="deadline"/>.</summary>
    protected async Task<TException> FailsWithinAsync<TException>(Func<Task> call, TimeSpan deadline, string what)
        where TException : Exception
    {
        var ex = await Record.ExceptionAsync(() => WithinAsync(call, deadline, what)).ConfigureAwait(false);
        Assert.False(ex is TimeoutException && ex.Message.StartsWith("Did not finish", StringComparison.Ordinal), $"{what}: {ex?.Message}");
        return ex switch
        {
            TException typed => typed,
            null => throw new Xunit.Sdk.XunitException($"{what}: expected {typeof(TException).Name}, but the call succeeded."),
            _ => throw new Xunit.Sdk.XunitException($"{what}: expected {typeof(TException).Name}, got {ex.GetType().Name}: {ex.Message}"),
        };
    }

    /// <summary>Asserts that <paramref name="observed"/> is, in order, a subsequence of <paramref name="expected"/> ending with its last element.</summary>
    protected static void AssertOrderedSubsequence<TState>(IReadOnlyList<TState?> expected, IReadOnlyList<TState?> observed, string what)
        where TState : class
    {
        var j = 0;
        foreach (var state in observed)
        {
            while (j < expected.Count && !Equals(expected[j], state))
            {
                j++;
            }

            if (j == expected.Count)
            {
                throw new Xunit.Sdk.XunitException(
                    $"{what}: observed states [{string.Join(", ", observed.Select(Show))}] are not an ordered subsequence of [{string.Join(", ", expected.Select(Show))}] (failed at {Show(state)}).");
            }

            j++;
        }

        Assert.True(observed.Count > 0 && Equals(observed[^1], expected[^1]),
            $"{what}: the last observed state {(observed.Count == 0 ? "(none)" : Show(observed[^1]))} is not the final state {Show(expected[^1])}.");

        static string Show(TState? s) => s?.ToString() ?? "absent";
    }

    /// <summary>Runs <paramref name="action"/> over <paramref name="items"/> with at most <paramref name="limit"/> at a time.</summary>
    protected static async Task ForEachLimitedAsync<T>(IEnumerable<T> items, int limit, Func<T, Task> action)
    {
        using var gate = new SemaphoreSlim(limit);
        await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                await action(item).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
    }
}
