using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Time.Testing;

namespace DistributedCron.Benchmarks;

/// <summary>
/// The fire pipeline's own cost, without a wire: one <see cref="Dcron"/> node on an <see cref="InMemoryRegistry"/>,
/// both on one <see cref="FakeTimeProvider"/>, with <see cref="Tasks"/> every-second tasks whose handler does
/// nothing. One operation advances the fake clock by one second and waits (real time, with a deadline) until every
/// task's fire has settled (claimed, run, outcome recorded, <see cref="Dcron.FireCompleted"/> raised) and the engine is
/// idle. Time and allocations are per operation, that is per <see cref="Tasks"/> fires: divide by it for one fire.
/// </summary>
/// <remarks>
/// <see cref="EngineTimers"/> false keeps the node's own background work out of the measurement (heartbeat every
/// minute, catch-up sweep every hour of fake time, so about one heartbeat per 60 operations); true uses the engine
/// defaults (heartbeat every second, catch-up sweep over every task every 5 s), which a real node pays as well.
/// </remarks>
[Config(typeof(ShortJobConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class PipelineBenchmarks
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private FakeTimeProvider _time = new(Epoch);
    private Dcron? _dcron;
    private InMemoryRegistry? _registry;
    private TaskCompletionSource _allSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _settled;
    private string? _failure;

    [Params(100, 1000)]
    public int Tasks { get; set; }

    [Params(false, true)]
    public bool EngineTimers { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    /// <summary>One second of fake time: <see cref="Tasks"/> fires, each claimed, run and recorded.</summary>
    [Benchmark]
    public async Task<int> AdvanceOneSecond()
    {
        _settled = 0;
        _allSettled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _time.Advance(TimeSpan.FromSeconds(1));
        await _allSettled.Task.WaitAsync(Deadline).ConfigureAwait(false);
        await _dcron!.WhenIdleAsync().WaitAsync(Deadline).ConfigureAwait(false);
        if (_failure is { } f)
        {
            throw new InvalidOperationException(f);
        }

        return _settled;
    }

    private void OnFireCompleted(object? sender, FireCompletedEventArgs e)
    {
        if (e.Result != FireResult.Succeeded)
        {
            _failure ??= $"{e.TaskName}@{e.ScheduledAt:O} settled as {e.Result}: {e.Error}";
        }

        if (Interlocked.Increment(ref _settled) == Tasks)
        {
            _allSettled.TrySetResult();
        }
    }

    private async Task SetupAsync()
    {
        _time = new FakeTimeProvider(Epoch);
        _registry = new InMemoryRegistry(new InMemoryStore(_time), "bench");
        var timers = EngineTimers;
        _dcron = new Dcron(_registry, o =>
        {
            o.NodeId = "bench-node-1";
            o.NodeIp = "127.0.0.1";
            o.TimeProvider = _time;
            if (!timers)
            {
                o.HeartbeatInterval = TimeSpan.FromMinutes(1);
                o.NodeTtl = TimeSpan.FromMinutes(5);
                o.CatchUpInterval = TimeSpan.FromHours(1);
            }
        });
        for (var i = 0; i < Tasks; i++)
        {
            _dcron.AddFunc("task-" + i.ToString("D5", CultureInfo.InvariantCulture), "* * * * * *", static _ => Task.CompletedTask);
        }

        _dcron.FireCompleted += OnFireCompleted;

        // The node owns every task once its own Working status comes back through the watch; until then a second
        // of fake time would fire nothing.
        var owning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Tasks;
        _dcron.AssignmentChanged += (_, e) =>
        {
            if (e.Owned.Count == tasks)
            {
                owning.TrySetResult();
            }
        };
        await _dcron.StartAsync().WaitAsync(Deadline).ConfigureAwait(false);
        if (_dcron.GetAssignedTasks().Count < Tasks)
        {
            await owning.Task.WaitAsync(Deadline).ConfigureAwait(false);
        }

        await _dcron.WhenIdleAsync().WaitAsync(Deadline).ConfigureAwait(false);
        await AdvanceOneSecond().ConfigureAwait(false); // the first fires, so every operation measured is a steady one
    }

    private async Task CleanupAsync()
    {
        if (_dcron is not null)
        {
            var stopping = _dcron.DisposeAsync().AsTask();
            var until = DateTime.UtcNow + Deadline;
            while (!stopping.IsCompleted && DateTime.UtcNow < until)
            {
                _time.Advance(TimeSpan.FromMilliseconds(500)); // shutdown waits on the fake clock
                await Task.WhenAny(stopping, Task.Delay(5)).ConfigureAwait(false);
            }

            await stopping.WaitAsync(Deadline).ConfigureAwait(false);
            _dcron = null;
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync().ConfigureAwait(false);
            _registry = null;
        }
    }
}
