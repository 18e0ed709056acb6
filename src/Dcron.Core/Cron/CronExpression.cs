using System.Diagnostics.CodeAnalysis;

namespace DistributedCron;

/// <summary>
/// A parsed cron expression: immutable, thread-safe, cheap to query. Semantics are Cronos's, plus <c>@every</c>
/// and a <c>CRON_TZ=</c>/<c>TZ=</c> zone prefix.
/// </summary>
/// <remarks>
/// <para>Accepted text (spaces and tabs separate fields; leading and trailing ones are ignored):</para>
/// <list type="bullet">
/// <item>5 fields <c>minute hour day-of-month month day-of-week</c> (second 0), or 6 fields with seconds first.
/// Each field takes <c>*</c>, <c>?</c> (same as <c>*</c>), lists, ranges, <c>a/step</c>, <c>a-b/step</c>; a
/// reversed range wraps around (<c>22-3</c> hours is 22,23,0..3) and a step keeps counting across the wrap.
/// Month and weekday names (three letters, any case); day of week 0..7 with 0 and 7 both Sunday.</item>
/// <item>Day of month <c>L</c>, <c>L-n</c>, <c>LW</c>, <c>L-nW</c>, <c>nW</c>; day of week <c>nL</c>, <c>n#k</c>
/// (each must be the whole field). When both day fields are restricted a day must match both (AND).</item>
/// <item>Macros, any case: <c>@every_second</c>, <c>@every_minute</c>, <c>@hourly</c>, <c>@daily</c>,
/// <c>@midnight</c>, <c>@weekly</c>, <c>@monthly</c>, <c>@yearly</c>, <c>@annually</c>.</item>
/// <item><c>@every &lt;duration&gt;</c>: whole numbers with units h, m, s (Go's <c>time.ParseDuration</c> syntax
/// restricted to those; like Go, units may repeat or come in any order and zero parts are allowed), at least 1 s,
/// at most 1193046h28m15s (about 136 years); any case for <c>@every</c>, lower case units. Occurrences are
/// <c>1970-01-01T00:00:00Z + k·duration</c> for every integer k, whatever the zone.</item>
/// <item>A prefix <c>CRON_TZ=&lt;zone&gt;</c> or <c>TZ=&lt;zone&gt;</c> (upper case, one only, followed by one or
/// more blanks) before any of the above: the body is evaluated in that zone and the zone argument of the queries
/// is ignored. The zone is an IANA id, or a Windows id without spaces. Lower-case <c>cron_tz=</c> is rejected with
/// a message saying so.</item>
/// <item>The jitter character <c>H</c> is rejected.</item>
/// </list>
/// <para>DST (Cronos's policy): an occurrence whose local time falls in a spring-forward gap runs once, at the
/// instant the gap ends (several such occurrences collapse into that one run). In a fall-back overlap an interval
/// expression (its second, minute or hour field uses <c>*</c>, <c>?</c>, a range or a step) runs in both passes; a
/// fixed-time one runs only in the first pass. Gaps and overlaps are read from the zone's actual UTC offsets, so a
/// change of standard offset (Asia/Kathmandu on 1986-01-01) is handled like a DST change.</para>
/// <para>Thread safety: instances are immutable; queries may run concurrently. Each instance remembers the zone
/// it was last queried with, and each zone's transitions are cached process-wide on first use.</para>
/// <para>Equality: two expressions are equal when they denote the same schedule: the same values in every field,
/// the same day rules, the same DST behaviour (interval or fixed-time), the same <c>@every</c> period and the same
/// prefix zone (compared by id), however the text was written: <c>@daily</c>, <c>0 0 * * *</c> and
/// <c>0 0 0 ? * *</c> are equal, as are <c>MON-FRI</c> and <c>1,2,3,4,5</c>. (Schedules that differ in form but
/// never fire, such as Feb 30 and Feb 31, are not.) <see cref="ToString"/> keeps each text as written.</para>
/// </remarks>
public sealed partial class CronExpression : IEquatable<CronExpression>
{
    private readonly CronSchedule _schedule;
    private readonly string _text;

    /// <summary>Parses into this instance's own fields, so success allocates nothing but the instance.</summary>
    private CronExpression(string? input, out CronError? error)
    {
        error = CronParser.Parse(input, ref _schedule, out var zone, out var start, out var end);
        if (zone is not null)
        {
            _map = ZoneMap.For(zone);
        }

        _text = input is null ? string.Empty : start == 0 && end == input.Length ? input : input[start..end];
    }

    /// <summary>The zone of a <c>CRON_TZ=</c>/<c>TZ=</c> prefix, which overrides the zone passed to queries; null without a prefix.</summary>
    public TimeZoneInfo? Zone => _schedule.HasZone ? _map!.Zone : null;

    /// <summary>True when the expression has second precision: six fields, or <c>@every_second</c> (which stands for <c>* * * * * *</c>).</summary>
    public bool HasSeconds => _schedule.HasSeconds;

    /// <summary>The period of an <c>@every</c> expression; null for every other kind.</summary>
    public TimeSpan? Interval => _schedule.EverySeconds != 0 ? TimeSpan.FromSeconds(_schedule.EverySeconds) : null;

    /// <summary>Parses <paramref name="expression"/>.</summary>
    /// <exception cref="CronFormatException">The text is not a valid expression (also for null or empty text). The
    /// message names the field and the offending text, for example "Day of week: 'FRI-' is not a valid range.".</exception>
    public static CronExpression Parse(string expression)
    {
        var result = new CronExpression(expression, out var error);
        if (error is not null)
        {
            throw new CronFormatException(error.Message, expression ?? string.Empty, error.Field);
        }

        return result;
    }

    /// <summary>Parses <paramref name="expression"/>, returning false instead of throwing when it is not valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? expression, [NotNullWhen(true)] out CronExpression? result)
    {
        result = new CronExpression(expression, out var error);
        if (error is null)
        {
            return true;
        }

        result = null;
        return false;
    }

    /// <summary>
    /// The zone named by an IANA id (<c>America/New_York</c>) or a Windows id (<c>Eastern Standard Time</c>).
    /// </summary>
    /// <remarks>"UTC" and "Etc/UTC" give <see cref="TimeZoneInfo.Utc"/>, which queries treat as the fast path.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="id"/> is null.</exception>
    /// <exception cref="TimeZoneNotFoundException">No zone of that id is known on this machine; the message names the id.</exception>
    public static TimeZoneInfo FindTimeZone(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (TimeZoneLookup.TryFind(id, out var zone))
        {
            return zone;
        }

        throw new TimeZoneNotFoundException(
            $"Time zone '{id}' was not found: it is neither an IANA id (such as 'America/New_York') nor a Windows id (such as 'Eastern Standard Time') known to this machine.");
    }

    /// <summary>The expression as it was given, without leading and trailing blanks.</summary>
    public override string ToString() => _text;

    /// <summary>True when <paramref name="other"/> denotes the same schedule (see the remarks on <see cref="CronExpression"/>).</summary>
    public bool Equals(CronExpression? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (_schedule.SameSchedule(other._schedule)
                && string.Equals(Zone?.Id, other.Zone?.Id, StringComparison.OrdinalIgnoreCase)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as CronExpression);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(_schedule.ScheduleHash(), Zone is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Zone.Id));

    /// <summary>True when both are null or denote the same schedule.</summary>
    public static bool operator ==(CronExpression? left, CronExpression? right) => left is null ? right is null : left.Equals(right);

    /// <summary>True unless both are null or denote the same schedule.</summary>
    public static bool operator !=(CronExpression? left, CronExpression? right) => !(left == right);
}
