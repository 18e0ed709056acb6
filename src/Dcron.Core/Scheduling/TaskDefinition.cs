namespace DistributedCron;

/// <summary>
/// An immutable, ready-to-schedule task: its metadata, parsed schedule, handler and effective options. A change of
/// any of them (a dynamic task's metadata put again, a Force* add) produces a new definition with a new
/// <see cref="Version"/>.
/// </summary>
internal sealed class TaskDefinition
{
    private static long s_versions;

    private TaskDefinition(TaskMeta meta, CronExpression cron, Func<TaskContext, Task>? handler, TaskOptions options, DcronOptions node)
    {
        Meta = meta;
        Cron = cron;
        Handler = handler;
        Options = options;
        Zone = cron.Zone ?? node.TimeZone;
        HasPostRun = meta.OneShot || meta.ExecutedAndMarkDeleted || meta.ExecutedAndCleanup;

        // A task with a post-run action runs at most once: it never overlaps with itself.
        Forbid = options.Concurrency == ConcurrencyMode.Forbid || HasPostRun;
        var policy = options.MisfirePolicy ?? node.MisfirePolicy;
        Policy = HasPostRun && policy == MisfirePolicy.FireAll ? MisfirePolicy.FireOnce : policy;
        Grace = options.MisfireGrace ?? node.MisfireGrace;
        Version = Interlocked.Increment(ref s_versions);
    }

    public string Name => Meta.Name;

    public TaskMeta Meta { get; }

    public CronExpression Cron { get; }

    public TimeZoneInfo Zone { get; }

    /// <summary>The static handler; null for a dynamic task (run by <see cref="DcronOptions.DynamicTaskHandler"/>).</summary>
    public Func<TaskContext, Task>? Handler { get; }

    public bool IsStatic => Handler is not null;

    public TaskOptions Options { get; }

    public bool HasPostRun { get; }

    public bool Forbid { get; }

    public MisfirePolicy Policy { get; }

    public TimeSpan Grace { get; }

    public long Version { get; }

    public static TaskDefinition Static(string name, string cronText, CronExpression cron, bool oneShot, Func<TaskContext, Task> handler, TaskOptions options, DcronOptions node) =>
        new(new TaskMeta { Name = name, CronFormat = cronText, OneShot = oneShot }, cron, handler, options, node);

    public static TaskDefinition Dynamic(TaskMeta meta, CronExpression cron, DcronOptions node) =>
        new(meta, cron, null, node.DynamicTaskOptions, node);

    /// <summary>The next occurrence after (or at, when <paramref name="inclusive"/>) <paramref name="from"/>.</summary>
    public DateTimeOffset? Next(DateTimeOffset from, bool inclusive) => Cron.GetNextOccurrence(from, Zone, inclusive);
}

/// <summary>What one node tracks about one task it knows. Guarded by the engine's gate, except <see cref="Lane"/>.</summary>
internal sealed class TaskRuntime(string name, WorkTracker work)
{
    public string Name { get; } = name;

    /// <summary>Bumped whenever the task's schedule on this node starts or stops; stale timer entries carry an older one.</summary>
    public long Generation { get; set; }

    public bool Owned { get; set; }

    /// <summary>The definition being scheduled (set while owned).</summary>
    public TaskDefinition? Definition { get; set; }

    /// <summary>The latest occurrence this node has tried to claim: it never claims that one, or an earlier one, again.</summary>
    public DateTimeOffset HighWater { get; set; } = DateTimeOffset.MinValue;

    /// <summary>The first occurrence the timer is responsible for since the node last gained the task; the catch-up covers the ones before.</summary>
    public DateTimeOffset TimerStart { get; set; } = DateTimeOffset.MaxValue;

    /// <summary>Runs of this task in progress on this node.</summary>
    public int Running { get; set; }

    /// <summary>A task with a post-run action was granted a claim here: no further claims for this definition.</summary>
    public long SpentVersion { get; set; }

    /// <summary>A catch-up of this task is queued or running.</summary>
    public bool CatchUpPending { get; set; }

    /// <summary>
    /// This node has proof, under the current <see cref="Generation"/>, that the task has a fire state in the registry
    /// (a claim answered, a marker written, a state read). Reset whenever the schedule starts (ownership gained,
    /// definition changed); while false, the catch-up sweep always checks the task, so a failed initialise is retried.
    /// </summary>
    public bool StateSeen { get; set; }

    /// <summary>
    /// The <see cref="HighWater"/> (in UTC ticks; -1 for none) for which the sweep found no occurrence after it before
    /// <see cref="TimerStart"/>: a fact that holds until the high-water mark moves or the schedule restarts.
    /// </summary>
    public long SweepClearedTicks { get; set; } = -1;

    /// <summary>Orders this task's claims.</summary>
    public ClaimLane Lane { get; } = new(work);
}
