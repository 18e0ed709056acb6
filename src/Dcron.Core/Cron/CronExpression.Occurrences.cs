namespace DistributedCron;

/// <summary>The occurrence queries: zone handling and the DST policy around the calendar search.</summary>
public sealed partial class CronExpression
{
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;
    private static readonly long UnixEpochTicks = DateTime.UnixEpoch.Ticks;
    private static readonly long MaxTicks = DateTime.MaxValue.Ticks;

    // With a zone prefix: that zone's map, fixed. Without: the map of the zone last passed in, so a repeated zone
    // costs one reference compare instead of a table lookup. Replaced whole, so concurrent callers are safe.
    private ZoneMap? _map;

    /// <summary>
    /// The first occurrence after <paramref name="from"/> (or at it, when <paramref name="inclusive"/>), or null
    /// when there is none before the end of year 9999.
    /// </summary>
    /// <param name="from">Where to start; only the instant matters. Occurrences fall on whole seconds, so a
    /// <paramref name="from"/> with a fraction of a second never matches itself.</param>
    /// <param name="zone">The zone whose wall clock the fields describe. Ignored when the expression has a
    /// <c>CRON_TZ=</c>/<c>TZ=</c> prefix (<see cref="Zone"/>), and by <c>@every</c> except for the result's offset.</param>
    /// <param name="inclusive">Whether an occurrence exactly at <paramref name="from"/> may be returned.</param>
    /// <returns>The occurrence, with the offset of the effective zone at that instant.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="zone"/> is null.</exception>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset from, TimeZoneInfo zone, bool inclusive = false)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var effective = _schedule.HasZone ? _map!.Zone : zone;
        var utc = from.UtcTicks;
        if (_schedule.EverySeconds != 0)
        {
            return NextEvery(utc, inclusive, effective);
        }

        var fraction = utc % TicksPerSecond;
        if (fraction != 0)
        {
            utc += TicksPerSecond - fraction;
            inclusive = true;
        }

        if (ReferenceEquals(effective, TimeZoneInfo.Utc))
        {
            var found = _schedule.FindLocal(inclusive ? utc : utc + TicksPerSecond, CronSchedule.MaxWholeSecondTicks);
            return found < 0 ? null : new DateTimeOffset(found, TimeSpan.Zero);
        }

        return NextInZone(utc, inclusive, GetMap(effective));
    }

    /// <summary>
    /// The occurrences from <paramref name="from"/> to <paramref name="to"/>, in order, computed lazily; none when
    /// <paramref name="to"/> is before <paramref name="from"/>.
    /// </summary>
    /// <param name="from">The start of the range.</param>
    /// <param name="to">The end of the range.</param>
    /// <param name="zone">As for <see cref="GetNextOccurrence"/>.</param>
    /// <param name="fromInclusive">Whether an occurrence exactly at <paramref name="from"/> is included.</param>
    /// <param name="toInclusive">Whether an occurrence exactly at <paramref name="to"/> is included.</param>
    /// <exception cref="ArgumentNullException"><paramref name="zone"/> is null.</exception>
    public IEnumerable<DateTimeOffset> GetOccurrences(
        DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone, bool fromInclusive = true, bool toInclusive = false)
    {
        ArgumentNullException.ThrowIfNull(zone);   // here, not on first enumeration
        return to < from ? [] : Enumerate(from, to, zone, fromInclusive, toInclusive);
    }

    private IEnumerable<DateTimeOffset> Enumerate(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone, bool fromInclusive, bool toInclusive)
    {
        for (var next = GetNextOccurrence(from, zone, fromInclusive);
             next is { } occurrence && (occurrence < to || (toInclusive && occurrence == to));
             next = GetNextOccurrence(occurrence, zone, inclusive: false))
        {
            yield return occurrence;
        }
    }

    /// <summary>
    /// The search in a zone with transitions. <paramref name="utc"/> is a whole second. The wall clock is searched
    /// forward from the local time of <paramref name="utc"/>; a fall-back overlap around that time is handled first
    /// (finish the pass <paramref name="utc"/> is in, then the second pass for interval expressions only), and the
    /// local result is mapped back: a time in a gap moves to the gap's end, a time in an overlap takes the first pass.
    /// </summary>
    private DateTimeOffset? NextInZone(long utc, bool inclusive, ZoneMap map)
    {
        // Offsets differ by less than a day, so an instant a day or more from every transition is in no overlap,
        // and a wall-clock time that maps into that stretch with its offset is neither in a gap nor ambiguous.
        var offset = map.OffsetAt(utc, out var quietStart, out var quietEnd);
        quietStart += TimeSpan.TicksPerDay;
        quietEnd -= TimeSpan.TicksPerDay;
        var local = utc + offset;
        long found;
        if ((utc < quietStart || utc >= quietEnd) && map.TryGetOverlap(local, out var transition, out var before, out var after))
        {
            var overlapEnd = transition + before;   // local, exclusive
            if (utc < transition)
            {
                // First pass: occurrences up to the end of the overlap, at the earlier (daylight) offset.
                found = _schedule.FindLocal(inclusive ? local : local + TicksPerSecond, overlapEnd - 1);
                if (found >= 0)
                {
                    return Make(found - before, before);
                }

                local = transition + after;
                inclusive = true;
            }

            if (_schedule.IntervalTime)
            {
                // Second pass: interval expressions run again at the later (standard) offset.
                found = _schedule.FindLocal(inclusive ? local : local + TicksPerSecond, overlapEnd - 1);
                if (found >= 0)
                {
                    return Make(found - after, after);
                }
            }

            local = overlapEnd;
            inclusive = true;
        }

        found = _schedule.FindLocal(inclusive ? local : local + TicksPerSecond, CronSchedule.MaxWholeSecondTicks);
        if (found < 0)
        {
            return null;
        }

        var resultUtc = found - offset;
        if (resultUtc < quietStart || resultUtc >= quietEnd)
        {
            map.Resolve(found, out resultUtc, out offset);
        }

        return Make(resultUtc, offset);
    }

    /// <summary>The next multiple of the <c>@every</c> period after the Unix epoch, in absolute time.</summary>
    private DateTimeOffset? NextEvery(long utc, bool inclusive, TimeZoneInfo zone)
    {
        var period = _schedule.EverySeconds * TicksPerSecond;
        var sinceEpoch = utc - UnixEpochTicks;
        var k = sinceEpoch / period;
        if (k * period > sinceEpoch)
        {
            k--;   // round toward minus infinity: anchors exist before the epoch too
        }

        var candidate = k * period;
        if (candidate < sinceEpoch || (candidate == sinceEpoch && !inclusive))
        {
            candidate += period;
        }

        var result = UnixEpochTicks + candidate;
        if (result > MaxTicks)
        {
            return null;
        }

        return Make(result, ReferenceEquals(zone, TimeZoneInfo.Utc) ? 0 : GetMap(zone).OffsetAt(result));
    }

    /// <summary>The instant with its offset, or null when it (or its wall-clock time) is outside <see cref="DateTime"/>'s range.</summary>
    private static DateTimeOffset? Make(long utc, long offset)
    {
        var local = utc + offset;
        if ((ulong)utc > (ulong)MaxTicks || (ulong)local > (ulong)MaxTicks)
        {
            return null;
        }

        return new DateTimeOffset(local, new TimeSpan(offset));
    }

    private ZoneMap GetMap(TimeZoneInfo zone)
    {
        var map = _map;
        if (map is null || !ReferenceEquals(map.Zone, zone))
        {
            map = ZoneMap.For(zone);
            _map = map;   // never reached with a prefix: the effective zone is then _map's own
        }

        return map;
    }
}
