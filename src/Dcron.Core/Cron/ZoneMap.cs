using System.Runtime.CompilerServices;

namespace DistributedCron;

/// <summary>
/// A time zone's UTC offsets as a list of transitions, so that the search converts between instants and wall-clock
/// ticks with a few comparisons instead of a <see cref="TimeZoneInfo"/> call (about 150 ns each) per step.
/// </summary>
/// <remarks>
/// Time is cut into buckets of 2^48 ticks (about 326 days), held in chunks of 64 allocated on first use, so a
/// zone used around the present costs a few kilobytes. A bucket lists every transition within it and two
/// days either side, and is built once, on first use, from <see cref="TimeZoneInfo.GetUtcOffset(DateTime)"/>: the
/// offset is sampled every 3 hours and each change is located to the tick by bisection. (Two changes that undo
/// each other within 3 hours would be missed; no zone in the IANA database has one.) Buckets are immutable and
/// published with a plain reference write, so concurrent readers at worst build the same bucket twice.
/// One map exists per <see cref="TimeZoneInfo"/> instance for the life of that instance.
/// </remarks>
internal sealed class ZoneMap
{
    private const int BucketShift = 48;
    private const int ChunkShift = 6;   // 64 buckets (about 57 years) per lazily allocated chunk
    private const long Margin = 2 * TimeSpan.TicksPerDay;
    private const long SampleStep = 3 * TimeSpan.TicksPerHour;

    /// <summary>A bound far outside DateTime's range that still leaves room for arithmetic without overflow.</summary>
    internal const long Unbounded = long.MaxValue / 4;
    private static readonly long MaxTicks = DateTime.MaxValue.Ticks;
    private static readonly ConditionalWeakTable<TimeZoneInfo, ZoneMap> Maps = new();

    private readonly Bucket?[]?[]? _chunks;
    private readonly long _fixedOffset;

    private ZoneMap(TimeZoneInfo zone)
    {
        Zone = zone;
        if (zone.GetAdjustmentRules().Length == 0)
        {
            _fixedOffset = zone.BaseUtcOffset.Ticks;
        }
        else
        {
            _chunks = new Bucket?[]?[((MaxTicks >> BucketShift) >> ChunkShift) + 1];
        }
    }

    /// <summary>The zone this map describes.</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>The map of <paramref name="zone"/>, shared process-wide.</summary>
    public static ZoneMap For(TimeZoneInfo zone) => Maps.GetValue(zone, static z => new ZoneMap(z));

    /// <summary>The UTC offset in ticks at the instant <paramref name="utcTicks"/>.</summary>
    public long OffsetAt(long utcTicks)
    {
        if (_chunks is null)
        {
            return _fixedOffset;
        }

        var bucket = GetBucket(utcTicks);
        var offset = bucket.Initial;
        foreach (var t in bucket.Transitions)
        {
            if (utcTicks < t.Utc)
            {
                break;
            }

            offset = t.After;
        }

        return offset;
    }

    /// <summary>
    /// The offset at <paramref name="utcTicks"/> and the stretch [<paramref name="start"/>, <paramref name="end"/>)
    /// around it in which no transition is known to happen (at worst the edges of the bucket's window, so the
    /// stretch always reaches two days past the bucket).
    /// </summary>
    public long OffsetAt(long utcTicks, out long start, out long end)
    {
        if (_chunks is null)
        {
            start = -Unbounded;
            end = Unbounded;
            return _fixedOffset;
        }

        var bucket = GetBucket(utcTicks);
        var offset = bucket.Initial;
        start = bucket.WindowStart;
        end = bucket.WindowEnd;
        foreach (var t in bucket.Transitions)
        {
            if (utcTicks < t.Utc)
            {
                end = t.Utc;
                break;
            }

            offset = t.After;
            start = t.Utc;
        }

        return offset;
    }

    /// <summary>
    /// Maps the wall-clock time <paramref name="local"/> to an instant. A time that occurs twice (a fall-back
    /// overlap) gives the earlier instant, the first pass. A time that does not exist (a spring-forward gap) gives
    /// the instant the gap ends, with the offset after it.
    /// </summary>
    public void Resolve(long local, out long utc, out long offset)
    {
        if (_chunks is null)
        {
            utc = local - _fixedOffset;
            offset = _fixedOffset;
            return;
        }

        var bucket = GetBucket(local);
        var transitions = bucket.Transitions;
        var segmentOffset = bucket.Initial;
        var segmentStart = long.MinValue;
        for (var i = 0; i <= transitions.Length; i++)
        {
            var segmentEnd = i < transitions.Length ? transitions[i].Utc : long.MaxValue;
            var candidate = local - segmentOffset;
            if (candidate >= segmentStart && candidate < segmentEnd)
            {
                utc = candidate;
                offset = segmentOffset;
                return;
            }

            if (i < transitions.Length)
            {
                segmentStart = segmentEnd;
                segmentOffset = transitions[i].After;
            }
        }

        foreach (var t in transitions)
        {
            if (t.After > t.Before && local >= t.Utc + t.Before && local < t.Utc + t.After)
            {
                utc = t.Utc;
                offset = t.After;
                return;
            }
        }

        // Unreachable for offsets TimeZoneInfo can produce; keep a defined answer anyway.
        offset = bucket.Initial;
        utc = local - offset;
    }

    /// <summary>
    /// When <paramref name="local"/> lies in a fall-back overlap, gives the transition instant and the offsets
    /// before (first pass) and after (second pass) it. The overlap spans local [utc + after, utc + before).
    /// </summary>
    public bool TryGetOverlap(long local, out long transitionUtc, out long before, out long after)
    {
        if (_chunks is not null)
        {
            foreach (var t in GetBucket(local).Transitions)
            {
                if (t.After < t.Before && local >= t.Utc + t.After && local < t.Utc + t.Before)
                {
                    transitionUtc = t.Utc;
                    before = t.Before;
                    after = t.After;
                    return true;
                }
            }
        }

        transitionUtc = before = after = 0;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Bucket GetBucket(long ticks)
    {
        var index = (int)(Math.Clamp(ticks, 0, MaxTicks) >> BucketShift);
        var chunk = Volatile.Read(ref _chunks![index >> ChunkShift]);
        return (chunk is null ? null : Volatile.Read(ref chunk[index & ((1 << ChunkShift) - 1)])) ?? Build(index);
    }

    private Bucket Build(int index)
    {
        var start = Math.Max(0, ((long)index << BucketShift) - Margin);
        var end = Math.Min(MaxTicks, ((long)(index + 1) << BucketShift) + Margin);
        var initial = Offset(start);
        var found = new List<Transition>();
        var current = initial;
        var low = start;   // an instant known to have offset `current`
        while (low < end)
        {
            var high = Math.Min(end, low + SampleStep);
            var offset = Offset(high);
            while (offset != current)
            {
                // Find the first tick in (low, high] whose offset differs from `current`.
                var l = low;
                var h = high;
                while (h - l > 1)
                {
                    var mid = l + ((h - l) / 2);
                    if (Offset(mid) == current)
                    {
                        l = mid;
                    }
                    else
                    {
                        h = mid;
                    }
                }

                var next = Offset(h);
                found.Add(new Transition(h, current, next));
                current = next;
                low = h;
            }

            low = high;
        }

        var bucket = new Bucket(initial, [.. found], start, end);
        ref var chunk = ref _chunks![index >> ChunkShift];
        if (Volatile.Read(ref chunk) is null)
        {
            Interlocked.CompareExchange(ref chunk, new Bucket?[1 << ChunkShift], null);
        }

        Volatile.Write(ref chunk![index & ((1 << ChunkShift) - 1)], bucket);
        return bucket;
    }

    private long Offset(long utcTicks) => Zone.GetUtcOffset(new DateTime(utcTicks, DateTimeKind.Utc)).Ticks;

    private readonly record struct Transition(long Utc, long Before, long After);

    private sealed class Bucket(long initial, Transition[] transitions, long windowStart, long windowEnd)
    {
        public long Initial { get; } = initial;

        public long WindowStart { get; } = windowStart;

        public long WindowEnd { get; } = windowEnd;

        public Transition[] Transitions { get; } = transitions;
    }
}
