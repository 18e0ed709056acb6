using System.Runtime.CompilerServices;

namespace DistributedCron;

/// <summary>The six positional fields of a cron expression, in the order they are written.</summary>
internal enum CronField : byte
{
    Seconds,
    Minutes,
    Hours,
    DayOfMonth,
    Month,
    DayOfWeek,
}

/// <summary>Static facts about each <see cref="CronField"/>: names, value range, wrap-around cycle.</summary>
internal static class CronFields
{
    /// <summary>The field name used in error messages and in <see cref="CronFormatException.Field"/> (Cronos's words).</summary>
    public static string Name(CronField field) => field switch
    {
        CronField.Seconds => "Seconds",
        CronField.Minutes => "Minutes",
        CronField.Hours => "Hours",
        CronField.DayOfMonth => "Day of month",
        CronField.Month => "Month",
        _ => "Day of week",
    };

    /// <summary>The plural, lower case, for "… must be between" sentences.</summary>
    public static string Plural(CronField field) => field switch
    {
        CronField.Seconds => "seconds",
        CronField.Minutes => "minutes",
        CronField.Hours => "hours",
        CronField.DayOfMonth => "days of month",
        CronField.Month => "months",
        _ => "days of week",
    };

    /// <summary>The smallest value that may be written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Min(CronField field) => field is CronField.DayOfMonth or CronField.Month ? 1 : 0;

    /// <summary>The largest value that may be written (day of week allows 7 for Sunday).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Max(CronField field) => field switch
    {
        CronField.Seconds or CronField.Minutes => 59,
        CronField.Hours => 23,
        CronField.DayOfMonth => 31,
        CronField.Month => 12,
        _ => 7,
    };

    /// <summary>
    /// How many distinct values a reversed range wraps around: a step keeps counting across the wrap, so
    /// <c>22-3/2</c> in hours is 22, 0, 2. Day of week cycles over 7 days (0 and 7 are the same day).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Cycle(CronField field) => field switch
    {
        CronField.Seconds or CronField.Minutes => 60,
        CronField.Hours => 24,
        CronField.DayOfMonth => 31,
        CronField.Month => 12,
        _ => 7,
    };

    /// <summary>The bitmask with every legal value set (day of week: bits 0..6 only, 7 is folded to 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong All(CronField field) => field switch
    {
        CronField.Seconds or CronField.Minutes => (1UL << 60) - 1,
        CronField.Hours => (1UL << 24) - 1,
        CronField.DayOfMonth => ((1UL << 32) - 1) & ~1UL,
        CronField.Month => ((1UL << 13) - 1) & ~1UL,
        _ => 0x7F,
    };

    /// <summary>Parses a three-letter month or weekday name (any case); -1 when it is not one.</summary>
    public static int ParseName(CronField field, char a, char b, char c)
    {
        // Fold to upper case with one bit: names are ASCII letters only.
        var key = ((a & ~0x20) << 16) | ((b & ~0x20) << 8) | (c & ~0x20);
        if (field == CronField.Month)
        {
            return key switch
            {
                ('J' << 16) | ('A' << 8) | 'N' => 1,
                ('F' << 16) | ('E' << 8) | 'B' => 2,
                ('M' << 16) | ('A' << 8) | 'R' => 3,
                ('A' << 16) | ('P' << 8) | 'R' => 4,
                ('M' << 16) | ('A' << 8) | 'Y' => 5,
                ('J' << 16) | ('U' << 8) | 'N' => 6,
                ('J' << 16) | ('U' << 8) | 'L' => 7,
                ('A' << 16) | ('U' << 8) | 'G' => 8,
                ('S' << 16) | ('E' << 8) | 'P' => 9,
                ('O' << 16) | ('C' << 8) | 'T' => 10,
                ('N' << 16) | ('O' << 8) | 'V' => 11,
                ('D' << 16) | ('E' << 8) | 'C' => 12,
                _ => -1,
            };
        }

        if (field == CronField.DayOfWeek)
        {
            return key switch
            {
                ('S' << 16) | ('U' << 8) | 'N' => 0,
                ('M' << 16) | ('O' << 8) | 'N' => 1,
                ('T' << 16) | ('U' << 8) | 'E' => 2,
                ('W' << 16) | ('E' << 8) | 'D' => 3,
                ('T' << 16) | ('H' << 8) | 'U' => 4,
                ('F' << 16) | ('R' << 8) | 'I' => 5,
                ('S' << 16) | ('A' << 8) | 'T' => 6,
                _ => -1,
            };
        }

        return -1;
    }
}

/// <summary>How the day-of-month field selects days when it is not a plain set.</summary>
internal enum DomKind : byte
{
    /// <summary>A plain set of days (<see cref="CronSchedule.DaysOfMonth"/>).</summary>
    Set,

    /// <summary><c>L</c> or <c>L-n</c>: the last day minus <see cref="CronSchedule.DomValue"/>.</summary>
    Last,

    /// <summary><c>LW</c> or <c>L-nW</c>: the weekday nearest to the last day minus <see cref="CronSchedule.DomValue"/>.</summary>
    LastWeekday,

    /// <summary><c>nW</c>: the weekday nearest to day <see cref="CronSchedule.DomValue"/>, within the month.</summary>
    NearestWeekday,
}

/// <summary>How the day-of-week field selects days when it is not a plain set.</summary>
internal enum DowKind : byte
{
    /// <summary>A plain set of weekdays (<see cref="CronSchedule.DaysOfWeek"/>).</summary>
    Set,

    /// <summary><c>nL</c>: the last <see cref="CronSchedule.DowValue"/>-day of the month.</summary>
    Last,

    /// <summary><c>n#k</c>: the k-th (<see cref="CronSchedule.DowNth"/>) <see cref="CronSchedule.DowValue"/>-day.</summary>
    Nth,
}
