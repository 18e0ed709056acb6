using System.Numerics;

namespace DistributedCron;

/// <summary>
/// The parsed form of a cron body: one bitmask per field (bit n set when value n matches) plus the special
/// day rules. A value type embedded in <see cref="CronExpression"/>, so a search reads it without an extra hop.
/// The calendar search over local wall-clock ticks lives in <c>CronSchedule.Calendar.cs</c>.
/// </summary>
internal partial struct CronSchedule
{
    // Field order is the memory layout (sequential): 8-byte members first, then 4, 2 and 1, so the struct packs
    // into 40 bytes and a CronExpression into 72. Allocation is a large part of Parse's cost.

    /// <summary>Bits 0..59.</summary>
    public ulong Seconds;

    /// <summary>Bits 0..59.</summary>
    public ulong Minutes;

    /// <summary>Bits 0..23.</summary>
    public uint Hours;

    /// <summary>Bits 1..31; used when <see cref="DomKind"/> is <see cref="DomKind.Set"/>.</summary>
    public uint DaysOfMonth;

    /// <summary>The <c>@every</c> period in seconds; 0 for calendar schedules.</summary>
    public uint EverySeconds;

    /// <summary>Bits 1..12.</summary>
    public ushort Months;

    /// <summary>Bits 0..6 (Sunday = 0; a written 7 is folded into bit 0); used when <see cref="DowKind"/> is Set.</summary>
    public byte DaysOfWeek;

    /// <summary>How day of month selects days.</summary>
    public DomKind DomKind;

    /// <summary>The n of <c>L-n</c>, <c>L-nW</c> or <c>nW</c>.</summary>
    public byte DomValue;

    /// <summary>How day of week selects days.</summary>
    public DowKind DowKind;

    /// <summary>The weekday (0..6) of <c>nL</c> or <c>n#k</c>.</summary>
    public byte DowValue;

    /// <summary>The k of <c>n#k</c> (1..5).</summary>
    public byte DowNth;

    /// <summary>Yes/no facts about the schedule, packed into one byte.</summary>
    public ScheduleFlags Flags;

    /// <summary>
    /// True when the seconds, minutes or hours field uses <c>*</c>, <c>?</c>, a range or a step: such an expression
    /// runs in both passes of a fall-back overlap. A fixed-time expression runs in the first pass only.
    /// </summary>
    public readonly bool IntervalTime => (Flags & ScheduleFlags.IntervalTime) != 0;

    /// <summary>The body was written with six fields (or is <c>@every_second</c>).</summary>
    public readonly bool HasSeconds => (Flags & ScheduleFlags.HasSeconds) != 0;

    /// <summary>Every day of every month matches, so the search never needs the date (set by <see cref="Complete"/>).</summary>
    public readonly bool AllDays => (Flags & ScheduleFlags.AllDays) != 0;

    /// <summary>The expression has a <c>CRON_TZ=</c>/<c>TZ=</c> prefix.</summary>
    public readonly bool HasZone => (Flags & ScheduleFlags.HasZone) != 0;

    /// <summary>Fills the derived members. Call once, after every field is set.</summary>
    public void Complete()
    {
        if (DomKind == DomKind.Set && DowKind == DowKind.Set
            && DaysOfMonth == (uint)CronFields.All(CronField.DayOfMonth)
            && DaysOfWeek == (byte)CronFields.All(CronField.DayOfWeek)
            && Months == (ushort)CronFields.All(CronField.Month))
        {
            Flags |= ScheduleFlags.AllDays;
        }
    }

    /// <summary>
    /// True when both denote the same set of occurrences with the same DST behaviour. How the text was written
    /// (five or six fields, names or numbers, a macro or its expansion) does not matter.
    /// </summary>
    public readonly bool SameSchedule(in CronSchedule other) =>
        EverySeconds == other.EverySeconds
        && Seconds == other.Seconds
        && Minutes == other.Minutes
        && Hours == other.Hours
        && Months == other.Months
        && DomKind == other.DomKind
        && DowKind == other.DowKind
        && IntervalTime == other.IntervalTime
        && (DomKind == DomKind.Set ? DaysOfMonth == other.DaysOfMonth : DomValue == other.DomValue)
        && (DowKind == DowKind.Set ? DaysOfWeek == other.DaysOfWeek
            : DowValue == other.DowValue && (DowKind != DowKind.Nth || DowNth == other.DowNth));

    /// <summary>A hash consistent with <see cref="SameSchedule"/>.</summary>
    public readonly int ScheduleHash()
    {
        var hash = new HashCode();
        hash.Add(EverySeconds);
        hash.Add(Seconds);
        hash.Add(Minutes);
        hash.Add(Hours);
        hash.Add(Months);
        hash.Add(DomKind);
        hash.Add(DomKind == DomKind.Set ? DaysOfMonth : DomValue);
        hash.Add(DowKind);
        hash.Add(DowKind == DowKind.Set ? DaysOfWeek : DowValue);
        hash.Add(DowKind == DowKind.Nth ? DowNth : 0);
        hash.Add(IntervalTime);
        return hash.ToHashCode();
    }
}

/// <summary>The yes/no members of <see cref="CronSchedule"/>.</summary>
[Flags]
internal enum ScheduleFlags : byte
{
    None = 0,
    IntervalTime = 1,
    HasSeconds = 2,
    AllDays = 4,
    HasZone = 8,
}
