using System.Runtime.CompilerServices;

namespace DistributedCron;

/// <summary>
/// One field: a comma-separated list of <c>*</c>, <c>?</c>, values, ranges (reversed ones wrap around) and steps;
/// names in month and day of week; and the day rules <c>L</c>, <c>L-n</c>, <c>LW</c>, <c>L-nW</c>, <c>nW</c>
/// (day of month) and <c>nL</c>, <c>n#k</c> (day of week), each of which must be the whole field.
/// A single forward pass over the field's characters; error paths build their messages afterwards.
/// </summary>
internal static partial class CronParser
{
    /// <summary>StepMasks[n]: bits 0, n, 2n, … below 64.</summary>
    private static readonly ulong[] StepMasks = BuildStepMasks();

    /// <summary>
    /// Parses one field into its bitmask (day rules go to <paramref name="s"/>). The common <c>*</c> and <c>?</c>
    /// are handled inline, where the field is a constant.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CronError? Field(ReadOnlySpan<char> text, CronField field, ref CronSchedule s, ref bool interval, out ulong bits)
    {
        var c = text[0];
        if (text.Length == 1 && c is '*' or '?')
        {
            bits = CronFields.All(field);
            interval = true;
            return null;
        }

        // One or two digits: the most common restricted field ("0", "30", "9").
        if (text.Length <= 2 && char.IsAsciiDigit(c) && (text.Length == 1 || char.IsAsciiDigit(text[1])))
        {
            var value = text.Length == 1 ? c - '0' : ((c - '0') * 10) + (text[1] - '0');
            if (value >= CronFields.Min(field) && value <= CronFields.Max(field))
            {
                bits = 1UL << value;
                return null;
            }
        }

        // "*/n" with n of one or two digits.
        if (text.Length is 3 or 4 && c == '*' && text[1] == '/' && char.IsAsciiDigit(text[2]) && (text.Length == 3 || char.IsAsciiDigit(text[3])))
        {
            var step = text.Length == 3 ? text[2] - '0' : ((text[2] - '0') * 10) + (text[3] - '0');
            if (step >= 1 && step <= CronFields.Max(field))
            {
                bits = (StepMasks[step] << CronFields.Min(field)) & (ulong.MaxValue >> (63 - CronFields.Max(field)));
                interval = true;
                return null;
            }
        }

        return ParseField(text, field, ref s, ref interval, out bits);
    }

    /// <summary>Parses a field other than a lone <c>*</c> or <c>?</c>.</summary>
    private static CronError? ParseField(ReadOnlySpan<char> text, CronField field, ref CronSchedule s, ref bool interval, out ulong bits)
    {
        bits = 0;
        if (field == CronField.DayOfMonth && (text[0] | 0x20) == 'l')
        {
            return ParseLastDayOfMonth(text, ref s);
        }

        var p = 0;
        while (true)
        {
            if (p == text.Length || text[p] == ',')
            {
                return Fail(field, text, "has an empty list item");
            }

            var error = ParseItem(text, ref p, field, ref bits, ref interval, ref s);
            if (error is not null)
            {
                return error;
            }

            if (p == text.Length)
            {
                return null;
            }

            p++;   // the comma
        }
    }

    /// <summary>
    /// The list item at <paramref name="p"/>: <c>*</c>, <c>?</c>, <c>a</c> or <c>a-b</c>, each with an optional
    /// <c>/step</c>, or a day rule. Leaves <paramref name="p"/> at the comma that ends it, or at the end.
    /// </summary>
    private static CronError? ParseItem(
        ReadOnlySpan<char> text, ref int p, CronField field, ref ulong bits, ref bool interval, ref CronSchedule s)
    {
        var itemStart = p;
        var max = CronFields.Max(field);
        int first, last;
        var isRange = false;
        var isStar = false;

        if (text[p] is '*' or '?')
        {
            first = CronFields.Min(field);
            last = max;
            p++;
            isStar = true;
            interval = true;
            if (More(text, p) && text[p] != '/')
            {
                return FailAt(field, text, itemStart, p);
            }
        }
        else
        {
            var error = ParseValue(text, ref p, field, itemStart, out first);
            if (error is not null)
            {
                return error;
            }

            last = first;
            if (More(text, p))
            {
                var c = text[p];
                if (c == '-')
                {
                    p++;
                    if (!More(text, p) || !char.IsAsciiLetterOrDigit(text[p]))
                    {
                        return Fail(field, Item(text, itemStart), "is not a valid range");
                    }

                    error = ParseValue(text, ref p, field, itemStart, out last);
                    if (error is not null)
                    {
                        return error;
                    }

                    isRange = true;
                    interval = true;
                }
                else if (c != '/')
                {
                    return ParseDayRule(text, ref p, field, first, itemStart, ref s);
                }
            }
        }

        var step = 1;
        if (More(text, p) && text[p] == '/')
        {
            p++;
            var stepStart = p;
            var value = 0;
            while (p < text.Length && char.IsAsciiDigit(text[p]))
            {
                value = Math.Min((value * 10) + (text[p] - '0'), 1000);
                p++;
            }

            if (p == stepStart || More(text, p) || value < 1 || value > max)
            {
                return FailStep(field, text, itemStart);
            }

            step = value;
            interval = true;
            if (!isRange && !isStar)
            {
                last = max;   // a/step counts from a to the end of the field
            }
        }

        if (More(text, p))
        {
            if (isRange && IsRuleChar(text[p]) && field is CronField.DayOfMonth or CronField.DayOfWeek)
            {
                return Fail(field, Item(text, itemStart), "is not valid: L, W and # may only follow a single value, as in '15W', '5L' or '5#3'");
            }

            return isRange && !IsRuleChar(text[p]) ? Fail(field, Item(text, itemStart), "is not a valid range") : FailAt(field, text, itemStart, p);
        }

        bits |= Expand(first, last, step, max, CronFields.Cycle(field));
        return null;
    }

    /// <summary>True when the current item goes on at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool More(ReadOnlySpan<char> text, int p) => p < text.Length && text[p] != ',';

    /// <summary>The list item that starts at <paramref name="start"/>, for messages.</summary>
    private static ReadOnlySpan<char> Item(ReadOnlySpan<char> text, int start)
    {
        var rest = text[start..];
        var comma = rest.IndexOf(',');
        return comma < 0 ? rest : rest[..comma];
    }

    /// <summary>The bits of first..last by step; a reversed range wraps around the field's cycle.</summary>
    private static ulong Expand(int first, int last, int step, int max, int cycle)
    {
        if (first <= last)
        {
            return (StepMasks[step] << first) & (ulong.MaxValue >> (63 - last));
        }

        ulong bits = 0;
        for (var v = first; v <= last + cycle; v += step)
        {
            bits |= 1UL << (v > max ? v - cycle : v);
        }

        return bits;
    }

    private static ulong[] BuildStepMasks()
    {
        var masks = new ulong[64];
        for (var step = 1; step < 64; step++)
        {
            for (var v = 0; v < 64; v += step)
            {
                masks[step] |= 1UL << v;
            }
        }

        return masks;
    }

    /// <summary>
    /// The rest of an item after a single value, which is not a range or a step: <c>nW</c> (day of month),
    /// <c>nL</c> or <c>n#k</c> (day of week), each of which must be the whole field; anything else is an error.
    /// </summary>
    private static CronError? ParseDayRule(ReadOnlySpan<char> text, ref int p, CronField field, int value, int itemStart, ref CronSchedule s)
    {
        var c = text[p] | 0x20;
        var isNearest = field == CronField.DayOfMonth && c == 'w';
        var isLast = field == CronField.DayOfWeek && c == 'l';
        var isNth = field == CronField.DayOfWeek && text[p] == '#';
        if (!(isNearest || isLast || isNth))
        {
            return FailAt(field, text, itemStart, p);
        }

        p++;
        var nth = 0;
        if (isNth)
        {
            var digits = p;
            while (p < text.Length && char.IsAsciiDigit(text[p]))
            {
                nth = Math.Min((nth * 10) + (text[p] - '0'), 1000);
                p++;
            }

            if (p == digits || More(text, p))
            {
                return Fail(field, Item(text, itemStart), "is not valid: '#' must be followed by a week number from 1 to 5");
            }

            if (nth is < 1 or > 5)
            {
                return Fail(field, Item(text, itemStart), "is out of range: the week number after '#' must be between 1 and 5");
            }
        }
        else if (More(text, p))
        {
            return FailAt(field, text, itemStart, p);
        }

        if (itemStart != 0 || p != text.Length)
        {
            return FailCombined(field, text, itemStart, isNearest ? "nW" : isLast ? "nL" : "n#k");
        }

        if (isNearest)
        {
            s.DomKind = DomKind.NearestWeekday;
            s.DomValue = (byte)value;
        }
        else
        {
            s.DowKind = isLast ? DowKind.Last : DowKind.Nth;
            s.DowValue = (byte)(value % 7);
            s.DowNth = (byte)nth;
        }

        return null;
    }

    /// <summary>Day of month <c>L</c>, <c>L-n</c>, <c>LW</c> or <c>L-nW</c> (any case), which must be the whole field.</summary>
    private static CronError? ParseLastDayOfMonth(ReadOnlySpan<char> text, ref CronSchedule s)
    {
        const CronField field = CronField.DayOfMonth;
        var p = 1;
        var offset = 0;
        if (p < text.Length && text[p] == '-')
        {
            p++;
            var digits = p;
            while (p < text.Length && char.IsAsciiDigit(text[p]))
            {
                offset = Math.Min((offset * 10) + (text[p] - '0'), 1000);
                p++;
            }

            if (p == digits)
            {
                return Fail(field, text, "is not valid: 'L-' must be followed by a number of days from 0 to 30");
            }

            if (offset > 30)
            {
                return Fail(field, text, "is out of range: the number of days after 'L-' must be between 0 and 30");
            }
        }

        var weekday = false;
        if (p < text.Length && (text[p] | 0x20) == 'w')
        {
            weekday = true;
            p++;
        }

        if (p < text.Length)
        {
            return text[p] == ','
                ? Fail(field, text, "cannot be combined with other values: L must be the whole field")
                : FailAt(field, text, 0, p);
        }

        s.DomKind = weekday ? DomKind.LastWeekday : DomKind.Last;
        s.DomValue = (byte)offset;
        return null;
    }

    /// <summary>A number, or a three-letter name in month and day of week; checked against the field's range.</summary>
    private static CronError? ParseValue(ReadOnlySpan<char> text, ref int p, CronField field, int itemStart, out int value)
    {
        value = 0;
        var start = p;
        if (p < text.Length && char.IsAsciiDigit(text[p]))
        {
            do
            {
                value = Math.Min((value * 10) + (text[p] - '0'), 100_000);
                p++;
            }
            while (p < text.Length && char.IsAsciiDigit(text[p]));

            if (value < CronFields.Min(field) || value > CronFields.Max(field))
            {
                return FailOutOfRange(field, text, itemStart);
            }

            return null;
        }

        if (field is CronField.Month or CronField.DayOfWeek && p + 3 <= text.Length
            && char.IsAsciiLetter(text[p]) && char.IsAsciiLetter(text[p + 1]) && char.IsAsciiLetter(text[p + 2]))
        {
            value = CronFields.ParseName(field, text[p], text[p + 1], text[p + 2]);
            if (value >= 0)
            {
                p += 3;
                return null;
            }

            return Fail(field, Item(text, itemStart), field == CronField.Month
                ? "is not valid: month names are JAN to DEC"
                : "is not valid: day names are SUN to SAT");
        }

        return start > itemStart && text[start - 1] == '-' && !(p < text.Length && (text[p] | 0x20) == 'h')
            ? Fail(field, Item(text, itemStart), "is not a valid range")
            : FailAt(field, text, itemStart, p);
    }

    private static bool IsRuleChar(char c) => (c | 0x20) is 'l' or 'w' || c == '#';

    /// <summary>The message for an unexpected character at <paramref name="p"/>, with a hint for H and misplaced day rules.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailAt(CronField field, ReadOnlySpan<char> text, int itemStart, int p)
    {
        var item = Item(text, itemStart);
        if (p < text.Length)
        {
            var c = text[p];
            if ((c | 0x20) == 'h')
            {
                return Fail(field, item, "uses the jitter character H, which is not supported; write the value explicitly");
            }

            if ((c | 0x20) == 'l' && field is not (CronField.DayOfMonth or CronField.DayOfWeek))
            {
                return Fail(field, item, "is not valid: 'L' is only allowed in the day-of-month and day-of-week fields");
            }

            if ((c | 0x20) == 'w' && field != CronField.DayOfMonth)
            {
                return Fail(field, item, "is not valid: 'W' is only allowed in the day-of-month field");
            }

            if (c == '#' && field != CronField.DayOfWeek)
            {
                return Fail(field, item, "is not valid: '#' is only allowed in the day-of-week field");
            }
        }

        return Fail(field, item, "is not a valid value");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailStep(CronField field, ReadOnlySpan<char> text, int itemStart) =>
        Fail(field, Item(text, itemStart), $"has an invalid step; the step must be a number from 1 to {CronFields.Max(field)}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailCombined(CronField field, ReadOnlySpan<char> text, int itemStart, string rule) =>
        Fail(field, Item(text, itemStart), $"cannot be combined with other values: {rule} must be the whole field");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailOutOfRange(CronField field, ReadOnlySpan<char> text, int itemStart) =>
        Fail(field, Item(text, itemStart),
            $"is out of range; {CronFields.Plural(field)} must be between {CronFields.Min(field)} and {CronFields.Max(field)}");

    /// <summary>"{Field}: '{text}' {problem}." Error paths only, kept out of line so hot frames stay small.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError Fail(CronField field, ReadOnlySpan<char> text, string problem)
    {
        var name = CronFields.Name(field);
        return new CronError($"{name}: '{Clip(text)}' {problem}.", name);
    }
}
