using System.Numerics;
using System.Runtime.CompilerServices;

namespace DistributedCron;

/// <summary>
/// The calendar search: the earliest local wall-clock time at or after a start that every field matches.
/// It knows nothing about time zones; <see cref="CronExpression"/> maps instants to wall-clock ticks and back.
/// Local times are <see cref="DateTime"/> ticks (100 ns since 0001-01-01) without a kind.
/// </summary>
internal partial struct CronSchedule
{
    internal const long TicksPerSecond = TimeSpan.TicksPerSecond;
    internal const long TicksPerDay = TimeSpan.TicksPerDay;

    /// <summary>The last whole second a <see cref="DateTime"/> can hold: 9999-12-31T23:59:59.</summary>
    internal const long MaxWholeSecondTicks = 3155378975990000000L;

    /// <summary>The day number (days since 0001-01-01) of 1970-01-01.</summary>
    private const int UnixEpochDay = 719162;

    /// <summary>The day number of 9999-12-31.</summary>
    private const long MaxDayNumber = 3652058;

    /// <summary>
    /// The Gregorian calendar repeats (dates and weekdays) every 400 years. A day rule that matches no day in 401
    /// consecutive years never matches, so the day search stops there instead of walking to year 9999.
    /// </summary>
    private const int CalendarCycleYears = 400;

    /// <summary>
    /// The first matching local time in [<paramref name="start"/>, <paramref name="end"/>], or -1.
    /// <paramref name="start"/> must be a whole second; it may be negative (it is clamped to 0001-01-01).
    /// </summary>
    public readonly long FindLocal(long start, long end)
    {
        if (start < 0)
        {
            start = 0;
        }

        if (start > end)
        {
            return -1;
        }

        var day = start / TicksPerDay;
        var timeOfDay = (int)((start - (day * TicksPerDay)) / TicksPerSecond);

        if (!AllDays)
        {
            var matchingDay = NextMatchingDay(day);
            if (matchingDay < 0)
            {
                return -1;
            }

            if (matchingDay != day)
            {
                day = matchingDay;
                timeOfDay = 0;
            }
        }

        var time = NextTimeOfDay(timeOfDay);
        if (time < 0)
        {
            // Nothing later today: the first time of the next matching day (a day always has a first time).
            day = AllDays ? day + 1 : NextMatchingDay(day + 1);
            if (day < 0)
            {
                return -1;
            }

            time = FirstTimeOfDay();
        }

        var result = (day * TicksPerDay) + (time * TicksPerSecond);
        return result <= end ? result : -1;
    }

    /// <summary>The earliest matching second of a day (seconds since midnight).</summary>
    private readonly int FirstTimeOfDay() =>
        (BitOperations.TrailingZeroCount(Hours) * 3600) + (BitOperations.TrailingZeroCount(Minutes) * 60) + BitOperations.TrailingZeroCount(Seconds);

    /// <summary>The first matching second of the day at or after <paramref name="secondOfDay"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int NextTimeOfDay(int secondOfDay)
    {
        var hour = secondOfDay / 3600;
        var rest = secondOfDay - (hour * 3600);
        var minute = rest / 60;
        var second = rest - (minute * 60);

        if (((Hours >> hour) & 1) != 0)
        {
            if (((Minutes >> minute) & 1) != 0)
            {
                var seconds = Seconds >> second;
                if (seconds != 0)
                {
                    return secondOfDay + BitOperations.TrailingZeroCount(seconds);
                }
            }

            // minute + 1 <= 60: a shift below 64, and bits 60..63 are always clear.
            var minutes = Minutes >> (minute + 1);
            if (minutes != 0)
            {
                return (hour * 3600) + ((minute + 1 + BitOperations.TrailingZeroCount(minutes)) * 60) + BitOperations.TrailingZeroCount(Seconds);
            }
        }

        var hours = Hours >> (hour + 1);
        if (hours != 0)
        {
            return ((hour + 1 + BitOperations.TrailingZeroCount(hours)) * 3600) + (BitOperations.TrailingZeroCount(Minutes) * 60) + BitOperations.TrailingZeroCount(Seconds);
        }

        return -1;
    }

    /// <summary>The first day number at or after <paramref name="dayNumber"/> whose date matches, or -1.</summary>
    private readonly long NextMatchingDay(long dayNumber)
    {
        if (dayNumber > MaxDayNumber)
        {
            return -1;
        }

        DateOnly.FromDayNumber((int)dayNumber).Deconstruct(out var year, out var month, out var day);
        var monthStart = dayNumber - day + 1;   // day number of the 1st, carried along instead of recomputed
        var lastYear = Math.Min(9999, year + CalendarCycleYears + 1);

        while (true)
        {
            if (((Months >> month) & 1) == 0)
            {
                var later = (uint)Months >> (month + 1);
                if (later != 0)
                {
                    month += 1 + BitOperations.TrailingZeroCount(later);
                }
                else
                {
                    year++;
                    month = BitOperations.TrailingZeroCount((uint)Months);
                }

                if (year > lastYear)
                {
                    return -1;
                }

                day = 1;
                monthStart = DaysFromCivil(year, month, 1);
            }

            var daysInMonth = DaysInMonth(year, month);
            var days = DayMask(daysInMonth, (int)((monthStart + 1) % 7)) >> day;   // day 0 (0001-01-01) was a Monday
            if (days != 0)
            {
                return monthStart + day - 1 + BitOperations.TrailingZeroCount(days);
            }

            monthStart += daysInMonth;
            day = 1;
            if (++month > 12)
            {
                month = 1;
                if (++year > lastYear)
                {
                    return -1;
                }
            }
        }
    }

    /// <summary>
    /// The days (bits 1..31) of a month of <paramref name="daysInMonth"/> days whose 1st is weekday
    /// <paramref name="firstWeekday"/> (Sunday 0) that match both day fields. The month itself is checked by the caller.
    /// </summary>
    internal readonly uint DayMask(int daysInMonth, int firstWeekday)
    {
        var valid = (uint)((2UL << daysInMonth) - 2);

        uint dom;
        switch (DomKind)
        {
            case DomKind.Set:
                dom = DaysOfMonth;
                break;
            case DomKind.Last:
                dom = DayBit(daysInMonth - DomValue);
                break;
            case DomKind.LastWeekday:
                dom = DayBit(NearestWeekday(daysInMonth - DomValue, daysInMonth, firstWeekday));
                break;
            default:
                dom = DomValue <= daysInMonth ? DayBit(NearestWeekday(DomValue, daysInMonth, firstWeekday)) : 0;
                break;
        }

        uint dow;
        switch (DowKind)
        {
            case DowKind.Set:
                // Rotate the weekday set so bit j means "day j+1 of the month", then repeat it every 7 days.
                var rotated = (uint)((DaysOfWeek >> firstWeekday) | (DaysOfWeek << (7 - firstWeekday))) & 0x7F;
                dow = (uint)((rotated * 0x10204081UL) << 1);
                break;
            case DowKind.Last:
                var lastWeekday = (firstWeekday + daysInMonth - 1) % 7;
                dow = DayBit(daysInMonth - ((lastWeekday - DowValue + 7) % 7));
                break;
            default:
                dow = DayBit(1 + ((DowValue - firstWeekday + 7) % 7) + (7 * (DowNth - 1)));
                break;
        }

        return dom & dow & valid;
    }

    /// <summary>Bit <paramref name="day"/> when it is a day number 1..31, else no bit.</summary>
    private static uint DayBit(int day) => day is >= 1 and <= 31 ? 1u << day : 0;

    /// <summary>
    /// The weekday nearest to <paramref name="day"/> without leaving the month: a Saturday moves to the Friday
    /// before (or to Monday the 3rd when it is the 1st), a Sunday to the Monday after (or to the Friday before when
    /// it is the last day). 0 when <paramref name="day"/> is below 1.
    /// </summary>
    private static int NearestWeekday(int day, int daysInMonth, int firstWeekday)
    {
        if (day < 1)
        {
            return 0;
        }

        var weekday = (firstWeekday + day - 1) % 7;
        return weekday switch
        {
            6 => day == 1 ? 3 : day - 1,
            0 => day == daysInMonth ? day - 2 : day + 1,
            _ => day,
        };
    }

    internal static bool IsLeapYear(int year) => (year & 3) == 0 && ((year % 100) != 0 || (year % 400) == 0);

    internal static int DaysInMonth(int year, int month) =>
        month == 2 ? (IsLeapYear(year) ? 29 : 28) : 30 + ((month + (month >> 3)) & 1);

    /// <summary>Days since 0001-01-01 of a proleptic Gregorian date.</summary>
    internal static long DaysFromCivil(int year, int month, int day)
    {
        // Counting years from March puts the leap day last (H. Hinnant's days_from_civil).
        var y = month <= 2 ? year - 1 : year;
        var era = y / 400;   // y >= 0 for years 1..9999
        var yearOfEra = y - (era * 400);
        var dayOfYear = ((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5 + day - 1;
        var dayOfEra = (yearOfEra * 365) + (yearOfEra / 4) - (yearOfEra / 100) + dayOfYear;
        return (era * 146097L) + dayOfEra - 719468 + UnixEpochDay;
    }
}
