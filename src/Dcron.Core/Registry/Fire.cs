namespace DistributedCron;

/// <summary>The result of <see cref="IRegistry.AddTaskAsync"/>.</summary>
public enum AddTaskResult
{
    /// <summary>The task was stored.</summary>
    Added = 0,

    /// <summary>A task of that name exists; nothing was written.</summary>
    Exists = 1,

    /// <summary>The name is tombstoned; nothing was written.</summary>
    Deleted = 2,
}

/// <summary>The answer to a claim of one occurrence of a task.</summary>
public sealed record FireClaim
{
    /// <summary>True when this node may run the occurrence.</summary>
    public required bool Granted { get; init; }

    /// <summary>The task claimed.</summary>
    public required string TaskName { get; init; }

    /// <summary>The occurrence claimed, in UTC.</summary>
    public required DateTimeOffset ScheduledAt { get; init; }

    /// <summary>The node that asked.</summary>
    public required string NodeId { get; init; }

    /// <summary>The fencing token of a granted claim (strictly increasing per task); 0 when refused.</summary>
    public long FencingToken { get; init; }

    /// <summary>On refusal: the task's latest claimed occurrence that made this claim stale.</summary>
    public DateTimeOffset? LastScheduledAt { get; init; }

    /// <summary>On refusal: the owner of the latest claim.</summary>
    public string? CurrentOwner { get; init; }
}

/// <summary>How a run ended.</summary>
public enum FireStatus
{
    /// <summary>The handler completed.</summary>
    Succeeded = 0,

    /// <summary>The handler threw (after any retries).</summary>
    Failed = 1,

    /// <summary>The handler exceeded its timeout.</summary>
    TimedOut = 2,

    /// <summary>The run was cancelled (node stopping).</summary>
    Cancelled = 3,

    /// <summary>The occurrence was claimed but deliberately not run (a new task's starting point, a tombstoned task).</summary>
    Skipped = 4,
}

/// <summary>The recorded result of a run.</summary>
public sealed record FireOutcome
{
    /// <summary>How the run ended.</summary>
    public required FireStatus Status { get; init; }

    /// <summary>When the run started (the running node's clock).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>How long the run took, retries included.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The error message of a failed run.</summary>
    public string? Error { get; init; }

    /// <summary>How many attempts were made.</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>The fencing token of the claim this outcome belongs to (set by the registry when stored).</summary>
    public long FencingToken { get; init; }
}

/// <summary>The one record a registry keeps per task for the fire protocol.</summary>
public sealed record TaskFireState
{
    /// <summary>The task.</summary>
    public required string TaskName { get; init; }

    /// <summary>The latest claimed occurrence, in UTC.</summary>
    public required DateTimeOffset LastScheduledAt { get; init; }

    /// <summary>The fencing token of the latest claim.</summary>
    public required long FencingToken { get; init; }

    /// <summary>The node that made the latest claim.</summary>
    public required string Owner { get; init; }

    /// <summary>The outcome of the latest completed run, if any.</summary>
    public FireOutcome? LastOutcome { get; init; }

    /// <summary>True while the latest claim has no recorded outcome.</summary>
    public bool IsRunning => LastOutcome is null || LastOutcome.FencingToken != FencingToken;
}
