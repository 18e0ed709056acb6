namespace DistributedCron;

/// <summary>What to do with occurrences that were due while nobody could fire them (a dead owner, a view-change gap,
/// a pause or a registry outage), found when a node gains a task or on the periodic catch-up sweep.</summary>
public enum MisfirePolicy
{
    /// <summary>Run only the latest missed occurrence within the grace; the older ones are counted as coalesced.</summary>
    FireOnce = 0,

    /// <summary>Run every missed occurrence within the grace, oldest first.</summary>
    FireAll = 1,

    /// <summary>Run none of them; they are counted as skipped.</summary>
    Skip = 2,
}

/// <summary>Whether two runs of one task may overlap.</summary>
public enum ConcurrencyMode
{
    /// <summary>A new occurrence runs even while the previous one is still running.</summary>
    Allow = 0,

    /// <summary>
    /// An occurrence is skipped (and counted) while the previous claimed run has not completed, unless the node that
    /// claimed it is no longer in the view (a dead owner never blocks a task).
    /// </summary>
    Forbid = 1,
}

/// <summary>Retries of a failed handler, run inside the same claim with <see cref="TaskContext.Attempt"/> incremented.</summary>
public sealed record RetryOptions
{
    /// <summary>No retry: one attempt.</summary>
    public static RetryOptions None { get; } = new();

    /// <summary>How many attempts in total (1 = no retry). At least 1, at most 100.</summary>
    public int MaxAttempts { get; init; } = 1;

    /// <summary>The delay before the second attempt (default 1 s).</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Each further delay is the previous one times this factor (default 2; at least 1).</summary>
    public double BackoffMultiplier { get; init; } = 2.0;

    /// <summary>The longest delay between attempts (default 1 min).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(1);

    internal TimeSpan DelayBefore(int attempt)
    {
        // attempt is the number of the attempt about to start (2 for the first retry).
        var factor = Math.Pow(BackoffMultiplier, attempt - 2);
        var ms = Backoff.TotalMilliseconds * factor;
        return ms >= MaxBackoff.TotalMilliseconds || double.IsInfinity(ms) ? MaxBackoff : TimeSpan.FromMilliseconds(ms);
    }

    internal void Validate(string taskName)
    {
        if (MaxAttempts is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, $"Task '{taskName}': Retry.MaxAttempts must be between 1 and 100.");
        }

        if (Backoff < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Backoff), Backoff, $"Task '{taskName}': Retry.Backoff must not be negative.");
        }

        if (double.IsNaN(BackoffMultiplier) || BackoffMultiplier < 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffMultiplier), BackoffMultiplier, $"Task '{taskName}': Retry.BackoffMultiplier must be at least 1.");
        }

        if (MaxBackoff < Backoff)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBackoff), MaxBackoff, $"Task '{taskName}': Retry.MaxBackoff must be at least Retry.Backoff ({Backoff}).");
        }
    }
}

/// <summary>Per-task settings. Anything left null falls back to <see cref="DcronOptions"/>.</summary>
public sealed record TaskOptions
{
    /// <summary>The defaults: the node's misfire settings, no timeout, no retry, overlap allowed.</summary>
    public static TaskOptions Default { get; } = new();

    /// <summary>Overrides <see cref="DcronOptions.MisfirePolicy"/> for this task.</summary>
    public MisfirePolicy? MisfirePolicy { get; init; }

    /// <summary>Overrides <see cref="DcronOptions.MisfireGrace"/> for this task.</summary>
    public TimeSpan? MisfireGrace { get; init; }

    /// <summary>
    /// The longest one attempt may run; then its <see cref="TaskContext.CancellationToken"/> is cancelled and the
    /// attempt counts as timed out. A handler that ignores the token is abandoned (its later result is only logged).
    /// Null (the default) means no limit.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Retries of a failed or timed-out attempt (default: none).</summary>
    public RetryOptions Retry { get; init; } = RetryOptions.None;

    /// <summary>Whether runs of this task may overlap (default <see cref="ConcurrencyMode.Allow"/>).</summary>
    public ConcurrencyMode Concurrency { get; init; } = ConcurrencyMode.Allow;

    internal void Validate(string taskName)
    {
        if (MisfirePolicy is { } p && !Enum.IsDefined(p))
        {
            throw new ArgumentOutOfRangeException(nameof(MisfirePolicy), p, $"Task '{taskName}': unknown misfire policy.");
        }

        if (MisfireGrace is { } g && (g < TimeSpan.FromSeconds(1) || g > TimeSpan.FromDays(366)))
        {
            throw new ArgumentOutOfRangeException(nameof(MisfireGrace), g, $"Task '{taskName}': MisfireGrace must be between 1 s and 366 days.");
        }

        if (Timeout is { } t && (t <= TimeSpan.Zero || t == System.Threading.Timeout.InfiniteTimeSpan))
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), t, $"Task '{taskName}': Timeout must be positive (use null for no limit).");
        }

        if (!Enum.IsDefined(Concurrency))
        {
            throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency, $"Task '{taskName}': unknown concurrency mode.");
        }

        if (Retry is null)
        {
            throw new ArgumentNullException(nameof(Retry), $"Task '{taskName}': Retry must not be null (use RetryOptions.None).");
        }

        Retry.Validate(taskName);
    }
}
