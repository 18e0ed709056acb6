namespace DistributedCron;

/// <summary>How this node settled one occurrence of a task.</summary>
public enum FireResult
{
    /// <summary>The handler ran and completed.</summary>
    Succeeded = 0,

    /// <summary>The handler ran and threw on its last attempt, or no handler was configured.</summary>
    Failed = 1,

    /// <summary>The handler ran and exceeded its timeout on its last attempt.</summary>
    TimedOut = 2,

    /// <summary>The handler ran and was cancelled because the node stopped.</summary>
    Cancelled = 3,

    /// <summary>Another node claimed this occurrence first (it runs there).</summary>
    ClaimLost = 4,

    /// <summary>A later occurrence was already claimed, so this one can no longer be claimed (it was run or deliberately passed over elsewhere).</summary>
    Superseded = 5,

    /// <summary>The occurrence was not run: it was older than the misfire grace when found, or the registry failed until the grace ran out.</summary>
    Missed = 6,

    /// <summary>The occurrence was folded into a later one by <see cref="MisfirePolicy.FireOnce"/>.</summary>
    Coalesced = 7,

    /// <summary>The occurrence was passed over on purpose: <see cref="MisfirePolicy.Skip"/>, or <see cref="ConcurrencyMode.Forbid"/> while the previous run was still running.</summary>
    Skipped = 8,
}

/// <summary>Data of <see cref="Dcron.FireCompleted"/>.</summary>
public sealed class FireCompletedEventArgs : EventArgs
{
    /// <summary>The task.</summary>
    public required string TaskName { get; init; }

    /// <summary>The occurrence (UTC).</summary>
    public required DateTimeOffset ScheduledAt { get; init; }

    /// <summary>The node that settled it (this node).</summary>
    public required string NodeId { get; init; }

    /// <summary>How it was settled.</summary>
    public required FireResult Result { get; init; }

    /// <summary>True when the handler ran (<see cref="FireResult.Succeeded"/> … <see cref="FireResult.Cancelled"/>).</summary>
    public bool Ran => Result <= FireResult.Cancelled;

    /// <summary>For a run: how late it started (start − scheduled, by this node's clock). Otherwise zero.</summary>
    public TimeSpan Lag { get; init; }

    /// <summary>True when found by the misfire catch-up rather than fired on time.</summary>
    public bool IsCatchUp { get; init; }

    /// <summary>For a run: the claim's fencing token. Otherwise 0.</summary>
    public long FencingToken { get; init; }

    /// <summary>For a run: how many attempts were made.</summary>
    public int Attempts { get; init; }

    /// <summary>For a run: how long it took, retries included.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The error of a failed, timed-out or missed occurrence, if any.</summary>
    public string? Error { get; init; }
}

/// <summary>Data of <see cref="Dcron.NodesChanged"/>.</summary>
public sealed class NodesChangedEventArgs : EventArgs
{
    /// <summary>All nodes of the new view, sorted by id (any status).</summary>
    public required IReadOnlyList<Node> Nodes { get; init; }

    /// <summary>The working nodes of the new view (the ones tasks are assigned to), sorted by id.</summary>
    public required IReadOnlyList<Node> WorkingNodes { get; init; }
}

/// <summary>Data of <see cref="Dcron.AssignmentChanged"/>.</summary>
public sealed class AssignmentChangedEventArgs : EventArgs
{
    /// <summary>The node.</summary>
    public required string NodeId { get; init; }

    /// <summary>Every task this node owns now, sorted.</summary>
    public required IReadOnlyList<string> Owned { get; init; }

    /// <summary>Tasks gained by this change, sorted.</summary>
    public required IReadOnlyList<string> Gained { get; init; }

    /// <summary>Tasks lost by this change, sorted.</summary>
    public required IReadOnlyList<string> Lost { get; init; }

    /// <summary>How many working nodes the assignment was computed over.</summary>
    public int WorkingNodeCount { get; init; }
}
