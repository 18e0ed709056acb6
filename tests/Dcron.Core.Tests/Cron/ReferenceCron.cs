using System.Numerics;
using System.Text.RegularExpressions;

namespace DistributedCron.Tests.Cron;

/// <summary>
/// A deliberately naive second implementation of the profile, for differential fuzzing: regular expressions,
/// bool arrays and <see cref="DateTime"/> arithmetic, no bit tricks and no shared code with the engine.
/// It answers "is this text valid" and "does this local time match"; it does not search.
/// </summary>
internal sealed partial class ReferenceCron
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@every_second"] = "* * * * * *",
        ["@every_minute"] = "0 * * * * *",
        ["@hourly"] = "0 0 * * * *",
        ["@daily"] = "0 0 0 * * *",
        ["@midnight"] = "0 0 0 * * *",
        ["@weekly"] = "0 0 0 * * 0",
        ["@monthly"] = "0 0 0 1 * *",
        ["@yearly"] = "0 0 0 1 1 *",
        ["@annually"] = "0 0 0 1 1 *",
    };

    public bool[] Seconds { get; } = new bool[60];
    public bool[] Minutes { get; } = new bool[60];
    public bool[] Hours { get; } = new bool[24];
    public bool[] DaysOfMonth { get; } = new bool[32];
    public bool[] Months { get; } = new bool[13];
    public bool[] DaysOfWeek { get; } = new bool[7];

    /// <summary>null (a set), "L" (last day minus <see cref="DomN"/>), "LW" or "W".</summary>
    public string? DomRule { get; private set; }
    public int DomN { get; private set; }

    /// <summary>null (a set), "L" or "#".</summary>
    public string? DowRule { get; private set; }
    public int DowDay { get; private set; }
    public int DowNth { get; private set; }

    public long EverySeconds { get; private set; }
    public TimeZoneInfo? Zone { get; private set; }

    public static ReferenceCron? TryParse(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var body = text.Trim(' ', '\t');
        var result = new ReferenceCron();
        var prefix = PrefixRx().Match(body);
        if (prefix.Success)
        {
            var id = prefix.Groups["zone"].Value;
            body = prefix.Groups["rest"].Value.TrimStart(' ', '\t');
            if (id.Length == 0 || body.Length == 0 || AnyPrefixRx().IsMatch(body))
            {
                return null;
            }

            if (id is "UTC" or "Etc/UTC")
            {
                result.Zone = TimeZoneInfo.Utc;
            }
            else if (TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
            {
                result.Zone = zone;
            }
            else
            {
                return null;
            }
        }
        else if (AnyPrefixRx().IsMatch(body))
        {
            return null;   // a prefix in the wrong case
        }

        if (body.StartsWith('@'))
        {
            var every = EveryRx().Match(body);
            if (every.Success)
            {
                BigInteger total = 0;
                foreach (Capture part in every.Groups["part"].Captures)
                {
                    var unit = part.Value[^1];
                    total += BigInteger.Parse(part.Value[..^1], System.Globalization.CultureInfo.InvariantCulture) * (unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
                }

                if (total < 1 || total > uint.MaxValue)
                {
                    return null;
                }

                result.EverySeconds = (long)total;
                return result;
            }

            if (!Macros.TryGetValue(body, out var expansion))
            {
                return null;
            }

            body = expansion;
        }

        var fields = body.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
        {
            return null;
        }

        if (fields.Length == 5)
        {
            result.Seconds[0] = true;
        }

        var k = fields.Length - 5;   // index of the minutes field
        var ok = (k == 0 || result.SetField(fields[0], result.Seconds, 0, 59, 60, null))
            && result.SetField(fields[k], result.Minutes, 0, 59, 60, null)
            && result.SetField(fields[k + 1], result.Hours, 0, 23, 24, null)
            && result.SetDayOfMonth(fields[k + 2])
            && result.SetField(fields[k + 3], result.Months, 1, 12, 12, MonthNames)
            && result.SetDayOfWeek(fields[k + 4]);
        return ok ? result : null;
    }

    /// <summary>True when the wall-clock time <paramref name="local"/> matches every field.</summary>
    public bool Matches(DateTime local) =>
        Seconds[local.Second] && Minutes[local.Minute] && Hours[local.Hour] && DayMatches(local.Date);

    /// <summary>True when the date matches month, day of month and day of week.</summary>
    public bool DayMatches(DateTime date)
    {
        var dim = DateTime.DaysInMonth(date.Year, date.Month);
        if (!Months[date.Month])
        {
            return false;
        }

        var dom = DomRule switch
        {
            null => DaysOfMonth[date.Day],
            "L" => date.Day == dim - DomN,
            "LW" => dim - DomN >= 1 && date.Day == Nearest(date.Year, date.Month, dim - DomN),
            _ => DomN <= dim && date.Day == Nearest(date.Year, date.Month, DomN),
        };
        var weekday = (int)date.DayOfWeek;
        var dow = DowRule switch
        {
            null => DaysOfWeek[weekday],
            "L" => weekday == DowDay && date.Day + 7 > dim,
            _ => weekday == DowDay && ((date.Day - 1) / 7) + 1 == DowNth,
        };
        return dom && dow;
    }

    /// <summary>The weekday nearest to day <paramref name="day"/>, without leaving the month.</summary>
    private static int Nearest(int year, int month, int day)
    {
        var dim = DateTime.DaysInMonth(year, month);
        return new DateTime(year, month, day).DayOfWeek switch
        {
            DayOfWeek.Saturday => day == 1 ? 3 : day - 1,
            DayOfWeek.Sunday => day == dim ? day - 2 : day + 1,
            _ => day,
        };
    }

    private bool SetDayOfMonth(string text)
    {
        var last = DomLastRx().Match(text);
        if (last.Success)
        {
            var n = last.Groups["n"].Success ? Number(last.Groups["n"].Value) : 0;
            if (n > 30)
            {
                return false;
            }

            DomRule = last.Groups["w"].Success ? "LW" : "L";
            DomN = n;
            return true;
        }

        var nearest = DomNearestRx().Match(text);
        if (nearest.Success)
        {
            var n = Number(nearest.Groups["n"].Value);
            if (n is < 1 or > 31)
            {
                return false;
            }

            DomRule = "W";
            DomN = n;
            return true;
        }

        return SetField(text, DaysOfMonth, 1, 31, 31, null);
    }

    private bool SetDayOfWeek(string text)
    {
        var rule = DowRuleRx().Match(text);
        if (rule.Success)
        {
            var day = Value(rule.Groups["v"].Value, 0, 7, DayNames);
            if (day < 0)
            {
                return false;
            }

            if (rule.Groups["k"].Success)
            {
                var k = Number(rule.Groups["k"].Value);
                if (k is < 1 or > 5)
                {
                    return false;
                }

                DowRule = "#";
                DowNth = k;
            }
            else
            {
                DowRule = "L";
            }

            DowDay = day % 7;
            return true;
        }

        var all = new bool[8];
        if (!SetField(text, all, 0, 7, 7, DayNames))
        {
            return false;
        }

        for (var d = 0; d < 7; d++)
        {
            DaysOfWeek[d] = all[d] || (d == 0 && all[7]);
        }

        return true;
    }

    /// <summary>A list of *, ?, a, a-b, each with /step; reversed ranges wrap around <paramref name="cycle"/> values.</summary>
    private bool SetField(string text, bool[] values, int min, int max, int cycle, string[]? names)
    {
        foreach (var item in text.Split(','))
        {
            var m = ItemRx().Match(item);
            if (!m.Success)
            {
                return false;
            }

            int a, b;
            if (m.Groups["star"].Success)
            {
                a = min;
                b = max;
            }
            else
            {
                a = Value(m.Groups["a"].Value, min, max, names);
                b = m.Groups["b"].Success ? Value(m.Groups["b"].Value, min, max, names) : a;
                if (a < 0 || b < 0)
                {
                    return false;
                }

                if (!m.Groups["b"].Success && m.Groups["step"].Success)
                {
                    b = max;
                }
            }

            var step = 1;
            if (m.Groups["step"].Success)
            {
                step = Number(m.Groups["step"].Value);
                if (step < 1 || step > max)
                {
                    return false;
                }
            }

            if (a <= b)
            {
                for (var v = a; v <= b; v += step)
                {
                    values[v] = true;
                }
            }
            else
            {
                for (var v = a; v <= b + cycle; v += step)
                {
                    values[v > max ? v - cycle : v] = true;
                }
            }
        }

        return true;
    }

    /// <summary>A number in range or a name; -1 when neither.</summary>
    private static int Value(string text, int min, int max, string[]? names)
    {
        if (char.IsAsciiDigit(text[0]))
        {
            var n = Number(text);
            return n >= min && n <= max ? n : -1;
        }

        var index = names is null ? -1 : Array.FindIndex(names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
        return index < 0 ? -1 : index + (names == MonthNames ? 1 : 0);
    }

    /// <summary>A run of ASCII digits; int.MaxValue when too long to matter.</summary>
    private static int Number(string digits) =>
        digits.Length > 6 ? int.MaxValue : int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(?:CRON_TZ|TZ)=(?<zone>[^ \t]*)(?<rest>.*)\z", RegexOptions.Singleline)]
    private static partial Regex PrefixRx();

    [GeneratedRegex(@"^(?:cron_tz|tz)=", RegexOptions.IgnoreCase)]
    private static partial Regex AnyPrefixRx();

    [GeneratedRegex(@"^(?i:@every)[ \t]+(?:(?<part>[0-9]+[hms]))+\z")]
    private static partial Regex EveryRx();

    [GeneratedRegex(@"^(?:(?<star>[*?])|(?<a>[0-9]+|[A-Za-z]{3})(?:-(?<b>[0-9]+|[A-Za-z]{3}))?)(?:/(?<step>[0-9]+))?\z")]
    private static partial Regex ItemRx();

    [GeneratedRegex(@"^[Ll](?:-(?<n>[0-9]+))?(?<w>[Ww])?\z")]
    private static partial Regex DomLastRx();

    [GeneratedRegex(@"^(?<n>[0-9]+)[Ww]\z")]
    private static partial Regex DomNearestRx();

    [GeneratedRegex(@"^(?<v>[0-9]+|[A-Za-z]{3})(?:(?<l>[Ll])|#(?<k>[0-9]+))\z")]
    private static partial Regex DowRuleRx();
}
