using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace DistributedCron.Benchmarks;

/// <summary>
/// The fire claim (<see cref="IRegistry.CanRunTaskAsync"/>) against each backend, over loopback, with a server this
/// class starts itself for every case: one claim of a fresh (task, occurrence) at a time (the round trip a fire
/// waits for), and 100 claims of distinct fires in flight at once through one client (cost per claim when a
/// node's tasks are due in the same second). Every claim is of a later occurrence than the task's last, so every
/// one is granted, writes the fire state and bumps the fencing token: the path a real fire takes.
/// </summary>
[Config(typeof(ShortJobConfig))]
public class ClaimBenchmarks
{
    /// <summary>Claims in flight at once in <see cref="Claim100Concurrent"/>.</summary>
    public const int Concurrency = 100;

    private const string NodeId = "bench-node-1";
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private BenchBackend? _backend;
    private IRegistry? _registry;
    private string[] _tasks = [];
    private Task<FireClaim>[] _inFlight = [];
    private long _round;
    private int _next;

    [Params(Backend.InMemory, Backend.Redis, Backend.Etcd, Backend.EtcdTmpfs, Backend.ZooKeeper, Backend.ConsulEmulator)]
    public Backend Backend { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    /// <summary>One claim, waited for: the latency of a claim round trip.</summary>
    [Benchmark]
    public async Task<long> ClaimSequential()
    {
        // Tasks in turn; a task's occurrence moves on one second every time the turn comes back to it.
        var i = _next;
        _next = (i + 1) % _tasks.Length;
        if (i == 0)
        {
            _round++;
        }

        var claim = await _registry!.CanRunTaskAsync(_tasks[i], T0.AddSeconds(_round), NodeId).ConfigureAwait(false);
        return Granted(claim).FencingToken;
    }

    /// <summary>100 claims of 100 tasks' same new occurrence, all in flight at once; time is per claim.</summary>
    [Benchmark(OperationsPerInvoke = Concurrency)]
    public async Task<long> Claim100Concurrent()
    {
        var at = T0.AddSeconds(++_round);
        var registry = _registry!;
        for (var i = 0; i < Concurrency; i++)
        {
            _inFlight[i] = registry.CanRunTaskAsync(_tasks[i], at, NodeId);
        }

        long sum = 0;
        foreach (var claim in await Task.WhenAll(_inFlight).ConfigureAwait(false))
        {
            sum += Granted(claim).FencingToken;
        }

        return sum;
    }

    private static FireClaim Granted(FireClaim claim) => claim.Granted
        ? claim
        : throw new InvalidOperationException(
            $"The claim of {claim.TaskName}@{claim.ScheduledAt:O} was refused (last {claim.LastScheduledAt:O} by {claim.CurrentOwner}); every claim here must be fresh.");

    private async Task SetupAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        _backend = await BenchBackend.StartAsync(Backend, cts.Token).ConfigureAwait(false);
        var ns = "bench-" + Guid.NewGuid().ToString("N")[..8];
        _registry = await _backend.CreateRegistryAsync(ns, cts.Token).ConfigureAwait(false);

        // What a node has done before it claims: registered itself and its tasks.
        await _registry.RegisterNodeAsync(new Node { Id = NodeId, Ip = "127.0.0.1", Status = NodeStatus.Working, CreatedAt = DateTimeOffset.UtcNow },
            TimeSpan.FromMinutes(10), cts.Token).ConfigureAwait(false);
        _tasks = Enumerable.Range(0, Concurrency).Select(i => "task-" + i.ToString("D3", CultureInfo.InvariantCulture)).ToArray();
        foreach (var t in _tasks)
        {
            await _registry.PutTaskAsync(new TaskMeta { Name = t, CronFormat = "* * * * * *" }, cts.Token).ConfigureAwait(false);
        }

        _inFlight = new Task<FireClaim>[Concurrency];
        _round = 0;
        _next = 0;
        Console.WriteLine($"// {Backend}: server {(_backend.Pid is { } pid ? "pid " + pid.ToString(CultureInfo.InvariantCulture) : "in process")} at '{_backend.Connect}', namespace {ns}");
    }

    private async Task CleanupAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync().ConfigureAwait(false);
            _registry = null;
        }

        if (_backend is not null)
        {
            await _backend.DisposeAsync().ConfigureAwait(false);
            _backend = null;
        }
    }
}
