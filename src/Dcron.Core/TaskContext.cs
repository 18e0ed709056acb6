namespace DistributedCron;

/// <summary>A static task implemented as a class.</summary>
public interface ICronTask
{
    /// <summary>Runs one occurrence. Honour <see cref="TaskContext.CancellationToken"/>: it is cancelled on timeout and on shutdown.</summary>
    Task RunAsync(TaskContext context);
}

/// <summary>Everything a handler knows about the occurrence it runs.</summary>
public sealed class TaskContext
{
    /// <summary>The task.</summary>
    public required string TaskName { get; init; }

    /// <summary>The occurrence being run (UTC): the same on every node, whatever its clock.</summary>
    public required DateTimeOffset ScheduledAt { get; init; }

    /// <summary>The node running it.</summary>
    public required string NodeId { get; init; }

    /// <summary>The claim's fencing token: strictly increasing per task across the cluster. Pass it to downstream
    /// systems to reject writes from a stale run.</summary>
    public required long FencingToken { get; init; }

    /// <summary>The task's payload (dynamic tasks), or null.</summary>
    public string? Payload { get; init; }

    /// <summary>1 for the first attempt, 2 for the first retry, and so on.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>True when the occurrence is run late by the misfire catch-up (for example after its owner died).</summary>
    public bool IsCatchUp { get; init; }

    /// <summary>Cancelled when the attempt times out or the node stops.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>Where an error reported to <see cref="DcronOptions.ErrorHandler"/> came from.</summary>
public enum TaskErrorStage
{
    /// <summary>The handler threw, timed out, or no handler was configured (its last attempt, after any retries).</summary>
    Handler = 0,

    /// <summary>Applying the post-run action (tombstone or cleanup) failed.</summary>
    PostRun = 1,

    /// <summary>Recording the outcome in the registry failed.</summary>
    RecordOutcome = 2,
}

/// <summary>An error of one run, handed to <see cref="DcronOptions.ErrorHandler"/>.</summary>
public sealed class TaskErrorContext
{
    /// <summary>The task's metadata.</summary>
    public required TaskMeta Task { get; init; }

    /// <summary>The occurrence.</summary>
    public required DateTimeOffset ScheduledAt { get; init; }

    /// <summary>The node that ran it.</summary>
    public required string NodeId { get; init; }

    /// <summary>The attempt that failed.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>Where the error came from.</summary>
    public TaskErrorStage Stage { get; init; }

    /// <summary>The error.</summary>
    public required Exception Exception { get; init; }
}
