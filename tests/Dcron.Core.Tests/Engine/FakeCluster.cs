using Xunit;
using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace DistributedCron.Tests.Engine;

/// <summary>One handler run, as the handler saw it.</summary>
internal sealed record RunRecord(string Task, DateTimeOffset ScheduledAt, string NodeId, bool IsCatchUp, long FencingToken, int Attempt, DateTimeOffset RealAt);

/// <summary>
/// Several <see cref="Dcron"/> nodes sharing one <see cref="InMemoryStore"/>, all on one <see cref="FakeTimeProvider"/>.
/// Time only moves in <see cref="StepAsync"/>: it advances in small steps and, after each, waits (with a real-time
/// deadline) until every node is idle, so the cluster behaves as if time passed smoothly. Handlers added through
/// <see cref="AddRecordedFunc"/> append to <see cref="Runs"/>.
/// </summary>
internal sealed class FakeCluster : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan IdleDeadline = TimeSpan.FromSeconds(20);

    private readonly List<Node> _nodes = new();

    public FakeCluster(string @namespace = "dcron")
    {
        Time = new FakeTimeProvider(Epoch);
        Store = new InMemoryStore(Time);
        Namespace = @namespace;
    }

    public FakeTimeProvider Time { get; }

    public InMemoryStore Store { get; }

    public string Namespace { get; }

    public ConcurrentQueue<RunRecord> Runs { get; } = new();

    public ConcurrentQueue<FireCompletedEventArgs> Settled { get; } = new();

    public IReadOnlyList<Node> Nodes => _nodes;

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>A registry client of the shared store, as a test observer sees it.</summary>
    public InMemoryRegistry Observer => _observer ??= new InMemoryRegistry(Store, Namespace);

    private InMemoryRegistry? _observer;

    /// <summary>Creates (does not start) a node with fast test timings and FireAll.</summary>
    public Node AddNode(string id, Action<DcronOptions>? configure = null, TimeSpan clockOffset = default)
    {
        var registry = new FaultyRegistry(new InMemoryRegistry(Store, Namespace));
        var dc = new Dcron(registry, o =>
        {
            o.NodeId = id;
            o.NodeIp = "10.0.0.1";
            o.HeartbeatInterval = TimeSpan.FromSeconds(1);
            o.NodeTtl = TimeSpan.FromSeconds(3);
            o.CatchUpInterval = TimeSpan.FromSeconds(2);
            o.MisfirePolicy = MisfirePolicy.FireAll;
            o.MisfireGrace = TimeSpan.FromMinutes(1);
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            o.TimeProvider = clockOffset == TimeSpan.Zero ? Time : new OffsetTimeProvider(Time, clockOffset);
            configure?.Invoke(o);
        });
        dc.FireCompleted += (_, e) => Settled.Enqueue(e);
        var node = new Node(dc, registry);
        _nodes.Add(node);
        return node;
    }

    /// <summary>A handler that records its run.</summary>
    public Func<TaskContext, Task> Recorder(Func<TaskContext, Task>? then = null) => ctx =>
    {
        Runs.Enqueue(new RunRecord(ctx.TaskName, ctx.ScheduledAt, ctx.NodeId, ctx.IsCatchUp, ctx.FencingToken, ctx.Attempt, DateTimeOffset.UtcNow));
        return then is null ? Task.CompletedTask : then(ctx);
    };

    /// <summary>Adds the same recorded static task to every node.</summary>
    public void AddRecordedFunc(string name, string cron, TaskOptions? options = null)
    {
        foreach (var n in _nodes)
        {
            n.Dcron.AddFunc(name, cron, Recorder(), options);
        }
    }

    public async Task StartAllAsync()
    {
        foreach (var n in _nodes)
        {
            await n.Dcron.StartAsync();
            await IdleAsync();
        }
    }

    /// <summary>Advances the clock by <paramref name="duration"/> in steps, waiting for every node to go idle after each.</summary>
    public async Task StepAsync(TimeSpan duration, TimeSpan? step = null)
    {
        var s = step ?? TimeSpan.FromMilliseconds(250);
        for (var done = TimeSpan.Zero; done < duration; done += s)
        {
            Time.Advance(done + s > duration ? duration - done : s);
            await IdleAsync();
        }
    }

    /// <summary>Waits until no node has runnable work, twice in a row (work can hop through the thread pool in between).</summary>
    public async Task IdleAsync()
    {
        for (var round = 0; round < 2; round++)
        {
            await Task.WhenAll(_nodes.Select(n => n.Dcron.WhenIdleAsync())).WaitAsync(IdleDeadline);
            await Task.Delay(1);
        }
    }

    /// <summary>Waits, stepping time, until <paramref name="condition"/> holds; fails after <paramref name="maxFake"/> of fake time.</summary>
    public async Task StepUntilAsync(Func<bool> condition, TimeSpan maxFake, string what)
    {
        var start = Now;
        while (!condition())
        {
            if (Now - start > maxFake)
            {
                throw new TimeoutException($"After {maxFake} of fake time still waiting for: {what}");
            }

            await StepAsync(TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>The occurrences of <paramref name="cron"/> in [from, to).</summary>
    public static IReadOnlyList<DateTimeOffset> Due(string cron, DateTimeOffset from, DateTimeOffset to) =>
        CronExpression.Parse(cron).GetOccurrences(from, to, TimeZoneInfo.Utc).ToList();

    /// <summary>Asserts every run is unique per (task, occurrence), and each occurrence in [from, to) of each task ran once.</summary>
    public void AssertExactlyOnce(IReadOnlyDictionary<string, string> tasks, DateTimeOffset from, DateTimeOffset to)
    {
        var runs = Runs.ToArray();
        var problems = new List<string>();
        foreach (var dup in runs.GroupBy(r => (r.Task, r.ScheduledAt)).Where(g => g.Select(r => r.FencingToken).Distinct().Count() > 1))
        {
            problems.Add($"duplicate {dup.Key.Task}@{dup.Key.ScheduledAt:HH:mm:ss.fff} on {string.Join(",", dup.Select(r => r.NodeId))}");
        }

        foreach (var (task, cron) in tasks)
        {
            var ran = runs.Where(r => r.Task == task).Select(r => r.ScheduledAt).ToHashSet();
            foreach (var at in Due(cron, from, to))
            {
                if (!ran.Contains(at))
                {
                    var settled = Settled.Where(e => e.TaskName == task && e.ScheduledAt == at).Select(e => $"{e.NodeId}:{e.Result}");
                    problems.Add($"missing {task}@{at:HH:mm:ss} (settled: {string.Join(" ", settled)})");
                }
            }
        }

        if (problems.Count > 0)
        {
            Assert.Fail($"{problems.Count} problem(s) in [{from:HH:mm:ss}, {to:HH:mm:ss}): " + string.Join("; ", problems.Take(30)));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _nodes)
        {
            // A partitioned node can only stop by itself; heal it so its disposal does not wait on retries.
            n.Registry.Heal();
            n.Registry.FailEvery = 0;
            var stopping = n.Dcron.DisposeAsync().AsTask();
            while (!stopping.IsCompleted)
            {
                Time.Advance(TimeSpan.FromMilliseconds(500));
                await Task.WhenAny(stopping, Task.Delay(5));
            }

            await stopping;
        }

        if (_observer is not null)
        {
            await _observer.DisposeAsync();
        }
    }

    /// <summary>A node and its fault-injecting registry client.</summary>
    internal sealed record Node(Dcron Dcron, FaultyRegistry Registry)
    {
        public string Id => Dcron.NodeId;
    }
}
