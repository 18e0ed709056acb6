namespace DistributedCron;

/// <summary>
/// A clock that reads <paramref name="inner"/> shifted by a fixed offset, to model a node whose wall clock is skewed
/// (tests, the chaos tool). Timers, timestamps and the local zone are the inner provider's, so delays still elapse at
/// the inner clock's pace; only <see cref="GetUtcNow"/> is shifted.
/// </summary>
/// <param name="inner">The real (or fake) clock.</param>
/// <param name="offset">How far ahead (positive) or behind (negative) this clock is.</param>
public sealed class OffsetTimeProvider(TimeProvider inner, TimeSpan offset) : TimeProvider
{
    private readonly TimeProvider _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <summary>The offset added to the inner clock.</summary>
    public TimeSpan Offset { get; } = offset;

    /// <summary>The clock being shifted.</summary>
    public TimeProvider Inner => _inner;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow() + Offset;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => _inner.LocalTimeZone;

    /// <inheritdoc />
    public override long TimestampFrequency => _inner.TimestampFrequency;

    /// <inheritdoc />
    public override long GetTimestamp() => _inner.GetTimestamp();

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _inner.CreateTimer(callback, state, dueTime, period);

    /// <inheritdoc />
    public override string ToString() => $"{_inner} {(Offset >= TimeSpan.Zero ? "+" : "")}{Offset}";
}
