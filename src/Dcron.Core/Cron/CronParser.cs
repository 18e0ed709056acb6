using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistributedCron;

/// <summary>Why an expression was rejected. Allocated only on failure.</summary>
internal sealed class CronError(string message, string? field = null)
{
    public string Message { get; } = message;

    public string? Field { get; } = field;
}

/// <summary>
/// Turns the text of an expression into a <see cref="CronSchedule"/>: the optional <c>CRON_TZ=</c>/<c>TZ=</c>
/// prefix, then a macro, <c>@every</c> or 5/6 fields (told apart by count). Works on spans and allocates nothing
/// on success (but a prefix's zone id); the fields themselves are parsed in <c>CronParser.Fields.cs</c>.
/// </summary>
internal static partial class CronParser
{
    private const string CronTzPrefix = "CRON_TZ=";
    private const string TzPrefix = "TZ=";

    /// <summary>
    /// Parses <paramref name="input"/> into <paramref name="schedule"/> (which must be zeroed); null on success, else
    /// the reason. [<paramref name="start"/>, <paramref name="end"/>) is the text without leading and trailing blanks.
    /// </summary>
    public static CronError? Parse(string? input, ref CronSchedule schedule, out TimeZoneInfo? zone, out int start, out int end)
    {
        zone = null;
        start = end = 0;
        if (input is null)
        {
            return new CronError("The cron expression is null.");
        }

        // One pass finds the blank-separated tokens; the first one tells a prefix, a macro or fields apart.
        var tokens = default(Tokens);
        var count = Tokenize(input, 0, ref tokens, out end);
        if (count == 0)
        {
            return new CronError("The cron expression is empty; write 5 fields (minute hour day-of-month month day-of-week), 6 fields (seconds first) or a macro such as '@daily'.");
        }

        start = tokens[0];
        var first = input[start];
        if ((first | 0x20) is 'c' or 't')
        {
            var body = input.AsSpan(start, end - start);
            if (body.StartsWith(CronTzPrefix, StringComparison.Ordinal) || body.StartsWith(TzPrefix, StringComparison.Ordinal))
            {
                var error = ParsePrefix(input, tokens[0], tokens[1], end, out zone);
                if (error is not null)
                {
                    return error;
                }

                schedule.Flags |= ScheduleFlags.HasZone;
                count = Tokenize(input, tokens[1], ref tokens, out _);
                first = input[tokens[0]];
            }
            else if (body.StartsWith(CronTzPrefix, StringComparison.OrdinalIgnoreCase) || body.StartsWith(TzPrefix, StringComparison.OrdinalIgnoreCase))
            {
                return FailPrefixCase(body);
            }
        }

        return first == '@'
            ? ParseMacro(input.AsSpan(tokens[0], end - tokens[0]), ref schedule)
            : ParseFields(input, ref tokens, count, end, ref schedule);
    }

    /// <summary>Start and end offsets of the first <see cref="MaxTokens"/> tokens: token k is [2k, 2k+1).</summary>
    [InlineArray(2 * MaxTokens)]
    private struct Tokens
    {
        private int _element;
    }

    private const int MaxTokens = 7;

    /// <summary>
    /// Finds the tokens (runs of characters other than space and tab) of <paramref name="input"/> from
    /// <paramref name="from"/>; returns how many there are (only the first <see cref="MaxTokens"/> are stored) and
    /// where the last one ends.
    /// </summary>
    private static int Tokenize(string input, int from, ref Tokens tokens, out int lastEnd)
    {
        var length = input.Length - from;
        if (length is >= 8 and <= 64 && Vector128.IsHardwareAccelerated)
        {
            return TokenizeShort(input.AsSpan(from), from, ref tokens, out lastEnd);
        }

        var count = 0;
        lastEnd = from;
        for (var i = from; i < input.Length; i++)
        {
            var c = input[i];
            if (c <= ' ' && c is ' ' or '\t')
            {
                continue;
            }

            var start = i;
            while (++i < input.Length && ((c = input[i]) > ' ' || c is not (' ' or '\t')))
            {
            }

            if (count < MaxTokens)
            {
                tokens[2 * count] = start;
                tokens[(2 * count) + 1] = i;
            }

            count++;
            lastEnd = i;
        }

        return count;
    }

    /// <summary>
    /// <see cref="Tokenize"/> for 8 to 64 characters: compares 8 at a time into a bitmask of blanks, then reads token
    /// starts and ends off the mask's edges.
    /// </summary>
    private static int TokenizeShort(ReadOnlySpan<char> text, int offset, ref Tokens tokens, out int lastEnd)
    {
        ref var first = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(text));
        var space = Vector128.Create((ushort)' ');
        var tab = Vector128.Create((ushort)'\t');
        ulong blank = 0;
        var i = 0;
        for (; i + 8 <= text.Length; i += 8)
        {
            var chars = Vector128.LoadUnsafe(ref first, (nuint)i);
            blank |= (ulong)(Vector128.Equals(chars, space) | Vector128.Equals(chars, tab)).ExtractMostSignificantBits() << i;
        }

        if (i < text.Length)
        {
            // The last 8 characters, overlapping ones already seen (text has at least 8).
            var tail = text.Length - 8;
            var chars = Vector128.LoadUnsafe(ref first, (nuint)tail);
            blank |= (ulong)(Vector128.Equals(chars, space) | Vector128.Equals(chars, tab)).ExtractMostSignificantBits() << tail;
        }

        var filled = ulong.MaxValue >> (64 - text.Length);
        var solid = ~blank & filled;
        var starts = solid & ~(solid << 1);
        var ends = solid & ~(solid >> 1);   // the last character of each token
        lastEnd = solid == 0 ? offset : offset + 64 - BitOperations.LeadingZeroCount(solid);
        var count = BitOperations.PopCount(starts);
        for (var k = 0; k < MaxTokens && starts != 0; k++)
        {
            tokens[2 * k] = offset + BitOperations.TrailingZeroCount(starts);
            tokens[(2 * k) + 1] = offset + BitOperations.TrailingZeroCount(ends) + 1;
            starts &= starts - 1;
            ends &= ends - 1;
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailPrefixCase(ReadOnlySpan<char> body) =>
        new($"The zone prefix '{body[..(body.IndexOf('=') + 1)]}' must be written in upper case: 'CRON_TZ=' or 'TZ='.");

    /// <summary>Checks the prefix token [<paramref name="start"/>, <paramref name="tokenEnd"/>): <c>CRON_TZ=zone</c> or <c>TZ=zone</c>.</summary>
    private static CronError? ParsePrefix(string input, int start, int tokenEnd, int end, out TimeZoneInfo? zone)
    {
        zone = null;
        var prefix = input.AsSpan(start, tokenEnd - start);
        var id = prefix[(prefix[0] == 'C' ? CronTzPrefix.Length : TzPrefix.Length)..];
        if (id.IsEmpty)
        {
            return new CronError($"The zone prefix '{prefix}' names no time zone; write for example 'CRON_TZ=Europe/Berlin 0 9 * * *'.");
        }

        if (tokenEnd == end)
        {
            return new CronError($"The zone prefix '{prefix}' is not followed by a cron expression.");
        }

        var idText = id.ToString();
        if (!TimeZoneLookup.TryFind(idText, out var found))
        {
            return new CronError($"The zone prefix '{prefix}' names an unknown time zone '{idText}'.");
        }

        var remainder = input.AsSpan(tokenEnd, end - tokenEnd).TrimStart(" \t");
        if (remainder.StartsWith(CronTzPrefix, StringComparison.OrdinalIgnoreCase) || remainder.StartsWith(TzPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return new CronError($"Only one zone prefix is allowed, but '{prefix}' is followed by '{Clip(remainder)}'.");
        }

        zone = found;
        return null;
    }

    /// <summary>Parses 5 or 6 field tokens.</summary>
    private static CronError? ParseFields(string input, ref Tokens tokens, int count, int end, ref CronSchedule s)
    {
        if (count is not (5 or 6))
        {
            return FailFieldCount(input.AsSpan(tokens[0], end - tokens[0]), count);
        }

        var k = 0;
        var interval = false;
        var ignored = false;
        CronError? error;
        if (count == 6)
        {
            s.Flags |= ScheduleFlags.HasSeconds;
            if ((error = Field(Token(input, ref tokens, k++), CronField.Seconds, ref s, ref interval, out s.Seconds)) is not null)
            {
                return error;
            }
        }
        else
        {
            s.Seconds = 1;   // an implicit 0, which is not an interval
        }

        if ((error = Field(Token(input, ref tokens, k++), CronField.Minutes, ref s, ref interval, out s.Minutes)) is not null
            || (error = Field(Token(input, ref tokens, k++), CronField.Hours, ref s, ref interval, out var hours)) is not null
            || (error = Field(Token(input, ref tokens, k++), CronField.DayOfMonth, ref s, ref ignored, out var daysOfMonth)) is not null
            || (error = Field(Token(input, ref tokens, k++), CronField.Month, ref s, ref ignored, out var months)) is not null
            || (error = Field(Token(input, ref tokens, k), CronField.DayOfWeek, ref s, ref ignored, out var daysOfWeek)) is not null)
        {
            return error;
        }

        s.Hours = (uint)hours;
        s.Months = (ushort)months;
        if (s.DomKind == DomKind.Set)
        {
            s.DaysOfMonth = (uint)daysOfMonth;
        }

        if (s.DowKind == DowKind.Set)
        {
            s.DaysOfWeek = (byte)((daysOfWeek | (daysOfWeek >> 7)) & 0x7F);   // 7 is Sunday, like 0
        }

        if (interval)
        {
            s.Flags |= ScheduleFlags.IntervalTime;
        }

        s.Complete();
        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<char> Token(string input, ref Tokens tokens, int k) =>
        input.AsSpan(tokens[2 * k], tokens[(2 * k) + 1] - tokens[2 * k]);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailFieldCount(ReadOnlySpan<char> body, int count) => new(
        $"'{Clip(body)}' has {count} field{(count == 1 ? "" : "s")}; a cron expression has 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or is a macro such as '@daily'.");

    /// <summary>Parses a macro (case-insensitive) or <c>@every &lt;duration&gt;</c>.</summary>
    private static CronError? ParseMacro(ReadOnlySpan<char> body, ref CronSchedule s)
    {
        var nameLength = body.IndexOfAny(' ', '\t');
        if (nameLength < 0)
        {
            nameLength = body.Length;
        }

        var name = body[..nameLength];
        var rest = body[nameLength..].TrimStart(" \t");

        if (name.Equals("@every", StringComparison.OrdinalIgnoreCase))
        {
            var error = ParseDuration(rest, out var seconds);
            if (error is not null)
            {
                return error;
            }

            s.EverySeconds = (uint)seconds;
            return null;
        }

        // Expansions: @every_second = "* * * * * *", @every_minute = "0 * * * * *", @hourly = "0 0 * * * *",
        // @daily = @midnight = "0 0 0 * * *", @weekly = "0 0 0 * * 0", @monthly = "0 0 0 1 * *",
        // @yearly = @annually = "0 0 0 1 1 *". The first three are interval expressions (see IntervalTime).
        s.Seconds = 1;
        s.Minutes = 1;
        s.Hours = 1;
        s.DaysOfMonth = (uint)CronFields.All(CronField.DayOfMonth);
        s.Months = (ushort)CronFields.All(CronField.Month);
        s.DaysOfWeek = (byte)CronFields.All(CronField.DayOfWeek);
        if (name.Equals("@every_second", StringComparison.OrdinalIgnoreCase))
        {
            s.Seconds = CronFields.All(CronField.Seconds);
            s.Minutes = CronFields.All(CronField.Minutes);
            s.Hours = (uint)CronFields.All(CronField.Hours);
            s.Flags |= ScheduleFlags.IntervalTime;
            s.Flags |= ScheduleFlags.HasSeconds;
        }
        else if (name.Equals("@every_minute", StringComparison.OrdinalIgnoreCase))
        {
            s.Minutes = CronFields.All(CronField.Minutes);
            s.Hours = (uint)CronFields.All(CronField.Hours);
            s.Flags |= ScheduleFlags.IntervalTime;
        }
        else if (name.Equals("@hourly", StringComparison.OrdinalIgnoreCase))
        {
            s.Hours = (uint)CronFields.All(CronField.Hours);
            s.Flags |= ScheduleFlags.IntervalTime;
        }
        else if (name.Equals("@daily", StringComparison.OrdinalIgnoreCase) || name.Equals("@midnight", StringComparison.OrdinalIgnoreCase))
        {
        }
        else if (name.Equals("@weekly", StringComparison.OrdinalIgnoreCase))
        {
            s.DaysOfWeek = 1;
        }
        else if (name.Equals("@monthly", StringComparison.OrdinalIgnoreCase))
        {
            s.DaysOfMonth = 1u << 1;
        }
        else if (name.Equals("@yearly", StringComparison.OrdinalIgnoreCase) || name.Equals("@annually", StringComparison.OrdinalIgnoreCase))
        {
            s.DaysOfMonth = 1u << 1;
            s.Months = 1 << 1;
        }
        else
        {
            return FailMacro(name);
        }

        if (!rest.IsEmpty)
        {
            return FailAfterMacro(body, name);
        }

        s.Complete();
        return null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailMacro(ReadOnlySpan<char> name) => new(
        $"'{Clip(name)}' is not a known macro; use @every_second, @every_minute, @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually or '@every <duration>'.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CronError FailAfterMacro(ReadOnlySpan<char> body, ReadOnlySpan<char> name) =>
        new($"'{Clip(body)}' is not valid: nothing may follow the macro '{name}'.");

    /// <summary>The largest <c>@every</c> period, 1193046h28m15s (2^32 - 1 seconds, about 136 years).</summary>
    internal const long MaxEverySeconds = uint.MaxValue;

    /// <summary>
    /// Parses a duration as Go's <c>time.ParseDuration</c> does, restricted to whole numbers and the units h, m
    /// and s: one or more number-unit pairs whose sum is at least 1 s. Like Go, units may repeat or come in any
    /// order (<c>30m1h</c> is 90 minutes) and zero parts are fine (<c>1h0m0s</c>). A sign, a fraction, a number
    /// without a unit, any other unit and blanks inside are rejected.
    /// </summary>
    private static CronError? ParseDuration(ReadOnlySpan<char> d, out long seconds)
    {
        seconds = 0;
        if (d.IsEmpty)
        {
            return new CronError("'@every' needs a duration, for example '@every 5m' or '@every 1h30m'.");
        }

        var p = 0;
        while (p < d.Length)
        {
            var c = d[p];
            if (!char.IsAsciiDigit(c))
            {
                var why = c switch
                {
                    '+' or '-' => "a sign is not allowed",
                    '.' => "fractions are not allowed",
                    ' ' or '\t' => "nothing may follow the duration",
                    _ => $"'{c}' is not a number",
                };
                return new CronError($"'@every {Clip(d)}' is not a valid duration: {why}; write whole numbers with h, m or s, for example '1h30m'.");
            }

            long n = 0;
            while (p < d.Length && char.IsAsciiDigit(d[p]))
            {
                n = Math.Min((n * 10) + (d[p] - '0'), MaxEverySeconds + 1);
                p++;
            }

            if (p == d.Length)
            {
                return new CronError($"'@every {Clip(d)}' is not a valid duration: the number {n} has no unit; use h, m or s.");
            }

            var unit = d[p];
            var next = p + 1 < d.Length ? d[p + 1] : '\0';
            long multiplier = unit switch
            {
                'h' => 3600,
                'm' when next != 's' => 60,
                's' => 1,
                _ => 0,
            };
            if (multiplier == 0)
            {
                var why = unit switch
                {
                    '.' => "fractions are not allowed",
                    'm' or 'u' or 'µ' or 'μ' or 'n' => "units below a second (ms, us, ns) are not allowed",
                    ' ' or '\t' => "nothing may follow the duration",
                    _ => $"'{unit}' is not a unit",
                };
                return new CronError($"'@every {Clip(d)}' is not a valid duration: {why}; use h, m or s.");
            }

            p++;
            seconds = Math.Min(seconds + Math.Min(n * multiplier, MaxEverySeconds + 1), MaxEverySeconds + 1);
        }

        if (seconds < 1)
        {
            return new CronError($"'@every {Clip(d)}' is not a valid duration: it must be at least 1s.");
        }

        if (seconds > MaxEverySeconds)
        {
            return new CronError($"'@every {Clip(d)}' is not a valid duration: it must be at most 1193046h28m15s (about 136 years).");
        }

        return null;
    }

    /// <summary>The text for a message, cut to a readable length.</summary>
    private static string Clip(ReadOnlySpan<char> text) =>
        text.Length <= 64 ? text.ToString() : string.Concat(text[..61], "...");
}
