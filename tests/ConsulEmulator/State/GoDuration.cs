using System.Globalization;
using System.Text;

namespace DistributedCron.Testing.Consul.State;

/// <summary>Go's <c>time.ParseDuration</c> and <c>Duration.String</c>, which Consul uses for TTL, LockDelay and wait.</summary>
public static class GoDuration
{
    private static readonly (string Unit, double Ticks)[] Units =
    [
        ("ns", 0.01), ("us", 10), ("µs", 10), ("μs", 10), ("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>Parses "300ms", "1.5h", "2h45m", "0"; false for anything Go refuses.</summary>
    public static bool TryParse(string? s, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrEmpty(s))
        {
            return false;
        }

        var i = 0;
        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            i++;
        }

        if (s.AsSpan(i) is "0")
        {
            return true;
        }

        if (i >= s.Length)
        {
            return false;
        }

        double ticks = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == start || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }

            var unit = s[unitStart..i];
            var match = Array.FindIndex(Units, u => u.Unit == unit);
            if (match < 0)
            {
                return false;
            }

            ticks += number * Units[match].Ticks;
        }

        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(negative ? -ticks : ticks));
        return true;
    }

    /// <summary>Go's <c>Duration.String()</c> for whole seconds and above: "10s", "1m0s", "24h0m0s".</summary>
    public static string Format(TimeSpan d)
    {
        if (d == TimeSpan.Zero)
        {
            return "0s";
        }

        if (d < TimeSpan.FromSeconds(1))
        {
            return d.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
        }

        var sb = new StringBuilder();
        var hours = (long)d.TotalHours;
        if (hours > 0)
        {
            sb.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || d.Minutes > 0)
        {
            sb.Append(d.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        var seconds = d.Seconds + (d.Ticks % TimeSpan.TicksPerSecond / (double)TimeSpan.TicksPerSecond);
        sb.Append(seconds.ToString(CultureInfo.InvariantCulture)).Append('s');
        return sb.ToString();
    }

    /// <summary>Nanoseconds, as Consul prints durations in JSON and error messages.</summary>
    public static long Nanoseconds(TimeSpan d) => d.Ticks * 100;
}
