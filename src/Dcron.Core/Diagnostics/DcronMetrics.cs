using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DistributedCron;

/// <summary>
/// The names of Dcron's telemetry: the <see cref="Meter"/> and <see cref="ActivitySource"/> <c>DistributedCron</c>.
/// </summary>
public static class DcronTelemetry
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = "DistributedCron";

    /// <summary>Counter <c>dcron.fires</c>: occurrences settled by a node, tagged <c>outcome</c> (succeeded, failed,
    /// timed_out, cancelled, claim_lost, superseded, missed, coalesced, skipped) and <c>catch_up</c>.</summary>
    public const string Fires = "dcron.fires";

    /// <summary>Histogram <c>dcron.fire.lag</c> (ms): start − scheduled of each run, tagged <c>catch_up</c>.</summary>
    public const string FireLag = "dcron.fire.lag";

    /// <summary>Counter <c>dcron.rebalances</c>: assignment recomputations that changed what the node owns.</summary>
    public const string Rebalances = "dcron.rebalances";

    /// <summary>Gauge <c>dcron.view.size</c>: working nodes in the node's view.</summary>
    public const string ViewSize = "dcron.view.size";

    /// <summary>Gauge <c>dcron.tasks.owned</c>: tasks the node owns.</summary>
    public const string TasksOwned = "dcron.tasks.owned";

    /// <summary>Counter <c>dcron.registry.errors</c>, tagged <c>operation</c>.</summary>
    public const string RegistryErrors = "dcron.registry.errors";

    /// <summary>Histogram <c>dcron.registry.duration</c> (ms), tagged <c>operation</c>.</summary>
    public const string RegistryDuration = "dcron.registry.duration";

    internal static readonly ActivitySource Source = new(Name, typeof(DcronTelemetry).Assembly.GetName().Version?.ToString());
}

/// <summary>The instruments of one node, plus plain counters the tests and the facade read.</summary>
internal sealed class DcronMetrics : IDisposable
{
    private static readonly string[] OutcomeNames =
        ["succeeded", "failed", "timed_out", "cancelled", "claim_lost", "superseded", "missed", "coalesced", "skipped"];

    private readonly Meter _meter;
    private readonly Counter<long> _fires;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _rebalances;
    private readonly Counter<long> _registryErrors;
    private readonly Histogram<double> _registryDuration;
    private readonly KeyValuePair<string, object?> _nodeTag;
    private readonly long[] _counts = new long[OutcomeNames.Length];
    private readonly long[] _catchUpRuns = new long[1];
    private long _registryErrorCount;

    public DcronMetrics(string nodeId, Func<int> viewSize, Func<int> owned)
    {
        _meter = new Meter(DcronTelemetry.Name, typeof(DcronMetrics).Assembly.GetName().Version?.ToString());
        _nodeTag = new KeyValuePair<string, object?>("dcron.node", nodeId);
        _fires = _meter.CreateCounter<long>(DcronTelemetry.Fires, "{fire}", "Occurrences settled, by outcome.");
        _lag = _meter.CreateHistogram<double>(DcronTelemetry.FireLag, "ms", "Start minus scheduled instant of each run.");
        _rebalances = _meter.CreateCounter<long>(DcronTelemetry.Rebalances, "{rebalance}", "Assignment changes.");
        _registryErrors = _meter.CreateCounter<long>(DcronTelemetry.RegistryErrors, "{error}", "Failed registry calls.");
        _registryDuration = _meter.CreateHistogram<double>(DcronTelemetry.RegistryDuration, "ms", "Registry call latency.");
        _meter.CreateObservableGauge(DcronTelemetry.ViewSize, () => new Measurement<int>(viewSize(), _nodeTag), "{node}", "Working nodes in view.");
        _meter.CreateObservableGauge(DcronTelemetry.TasksOwned, () => new Measurement<int>(owned(), _nodeTag), "{task}", "Tasks owned by this node.");
    }

    /// <summary>How many occurrences this node settled with <paramref name="result"/>.</summary>
    public long Count(FireResult result) => Interlocked.Read(ref _counts[(int)result]);

    /// <summary>Runs that came from the catch-up.</summary>
    public long CatchUpRuns => Interlocked.Read(ref _catchUpRuns[0]);

    /// <summary>Failed registry calls.</summary>
    public long RegistryErrorCount => Interlocked.Read(ref _registryErrorCount);

    public void Fire(FireResult result, bool catchUp, long count = 1)
    {
        if (count <= 0)
        {
            return;
        }

        Interlocked.Add(ref _counts[(int)result], count);
        if (catchUp && result <= FireResult.Cancelled)
        {
            Interlocked.Add(ref _catchUpRuns[0], count);
        }

        _fires.Add(count, new("outcome", OutcomeNames[(int)result]), new("catch_up", catchUp), _nodeTag);
    }

    public void Lag(TimeSpan lag, bool catchUp) =>
        _lag.Record(Math.Max(0, lag.TotalMilliseconds), new KeyValuePair<string, object?>("catch_up", catchUp), _nodeTag);

    public void Rebalanced() => _rebalances.Add(1, _nodeTag);

    public void RegistryCall(string operation, TimeSpan elapsed, bool failed)
    {
        var op = new KeyValuePair<string, object?>("operation", operation);
        _registryDuration.Record(elapsed.TotalMilliseconds, op, _nodeTag);
        if (failed)
        {
            Interlocked.Increment(ref _registryErrorCount);
            _registryErrors.Add(1, op, _nodeTag);
        }
    }

    public void Dispose() => _meter.Dispose();
}
