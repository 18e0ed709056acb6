using Xunit;

namespace DistributedCron.Tests.Cron;

/// <summary>The API around the vectors: parsing, errors, equality, zones, ranges and the documented corner cases.</summary>
public sealed class CronExpressionTests
{
    private static readonly TimeZoneInfo NewYork = CronExpression.FindTimeZone("America/New_York");

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    // ---- Parse / TryParse -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("*/5 * * * *")]
    [InlineData("0 30 9 L-2 * ?")]
    [InlineData("0 0 12 ? * 5#3")]
    [InlineData("@every 1h30m")]
    [InlineData("CRON_TZ=Europe/Berlin 0 9 * * MON-FRI")]
    public void TryParse_accepts_what_Parse_accepts(string text)
    {
        Assert.True(CronExpression.TryParse(text, out var parsed));
        Assert.Equal(CronExpression.Parse(text), parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \t ")]
    [InlineData("* * * *")]
    [InlineData("0 0 * * MON,FRI-")]
    public void TryParse_returns_false_and_Parse_throws_CronFormatException(string? text)
    {
        Assert.False(CronExpression.TryParse(text, out var parsed));
        Assert.Null(parsed);
        Assert.Throws<CronFormatException>(() => CronExpression.Parse(text!));
    }

    [Fact]
    public void Huge_input_is_rejected_with_CronFormatException()
    {
        var blanks = string.Join(" ", Enumerable.Repeat("*", 500_000));
        var number = new string('9', 1_000_000) + " * * * *";
        var step = "*/" + new string('7', 100_000) + " * * * *";

        Assert.Contains("500000 fields", Assert.Throws<CronFormatException>(() => CronExpression.Parse(blanks)).Message, StringComparison.Ordinal);
        Assert.Equal("Minutes", Assert.Throws<CronFormatException>(() => CronExpression.Parse(number)).Field);
        Assert.Equal("Minutes", Assert.Throws<CronFormatException>(() => CronExpression.Parse(step)).Field);
    }

    [Fact]
    public void A_long_list_parses()
    {
        var list = string.Join(",", Enumerable.Repeat("7", 100_000)) + " * * * *";

        Assert.Equal(CronExpression.Parse("7 * * * *"), CronExpression.Parse(list));
    }

    [Fact]
    public void ToString_is_the_text_without_surrounding_blanks()
    {
        Assert.Equal("*/5 * * * *", CronExpression.Parse("  */5 * * * *\t").ToString());
        Assert.Equal("CRON_TZ=UTC  @daily", CronExpression.Parse("\tCRON_TZ=UTC  @daily ").ToString());
    }

    [Theory]
    [InlineData("* * * * *", false)]
    [InlineData("0 * * * * *", true)]
    [InlineData("@every_second", true)]
    [InlineData("@every_minute", false)]
    [InlineData("@hourly", false)]
    [InlineData("@every 10s", false)]
    [InlineData("TZ=UTC */10 * * * * *", true)]
    public void HasSeconds(string text, bool expected) => Assert.Equal(expected, CronExpression.Parse(text).HasSeconds);

    [Fact]
    public void Interval_is_set_for_every_only()
    {
        Assert.Equal(TimeSpan.FromMinutes(90), CronExpression.Parse("@every 1h30m").Interval);
        Assert.Equal(TimeSpan.FromSeconds(10), CronExpression.Parse("CRON_TZ=Asia/Tokyo @every 10s").Interval);
        Assert.Null(CronExpression.Parse("*/5 * * * *").Interval);
        Assert.Null(CronExpression.Parse("@daily").Interval);
    }

    [Fact]
    public void Zone_is_the_prefix_zone()
    {
        Assert.Null(CronExpression.Parse("0 9 * * *").Zone);
        Assert.Equal("Asia/Tokyo", CronExpression.Parse("CRON_TZ=Asia/Tokyo 0 9 * * *").Zone!.Id);
        Assert.Equal("Europe/Berlin", CronExpression.Parse("TZ=Europe/Berlin @daily").Zone!.Id);
    }

    [Fact]
    public void The_prefix_zone_overrides_the_argument()
    {
        var tokyo = CronExpression.Parse("CRON_TZ=Asia/Tokyo 0 9 * * *");
        var from = At("2025-06-14T12:00:00Z");

        Assert.Equal(At("2025-06-15T09:00:00+09:00"), tokyo.GetNextOccurrence(from, NewYork));
        Assert.Equal(TimeSpan.FromHours(9), tokyo.GetNextOccurrence(from, TimeZoneInfo.Utc)!.Value.Offset);
    }

    // ---- Errors -----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("0 0 * * MON,FRI-", "Day of week", "Day of week: 'FRI-' is not a valid range.")]
    [InlineData("61 * * * *", "Minutes", "Minutes: '61' is out of range; minutes must be between 0 and 59.")]
    [InlineData("60 * * * * *", "Seconds", "Seconds: '60' is out of range; seconds must be between 0 and 59.")]
    [InlineData("0 24 * * *", "Hours", "Hours: '24' is out of range; hours must be between 0 and 23.")]
    [InlineData("0 0 32 * *", "Day of month", "Day of month: '32' is out of range; days of month must be between 1 and 31.")]
    [InlineData("0 0 1 13 *", "Month", "Month: '13' is out of range; months must be between 1 and 12.")]
    [InlineData("0 0 * * 8", "Day of week", "Day of week: '8' is out of range; days of week must be between 0 and 7.")]
    [InlineData("*/0 * * * *", "Minutes", "Minutes: '*/0' has an invalid step; the step must be a number from 1 to 59.")]
    [InlineData("0 0 * JAN-FOO *", "Month", "Month: 'JAN-FOO' is not valid: month names are JAN to DEC.")]
    [InlineData("0 0 1,,2 * *", "Day of month", "Day of month: '1,,2' has an empty list item.")]
    [InlineData("0 0 L * 5L", null, null)]
    [InlineData("0 0 * * 5#6", "Day of week", "Day of week: '5#6' is out of range: the week number after '#' must be between 1 and 5.")]
    [InlineData("0 0 1W,15 * *", "Day of month", "Day of month: '1W' cannot be combined with other values: nW must be the whole field.")]
    [InlineData("0 L * * *", "Hours", "Hours: 'L' is not valid: 'L' is only allowed in the day-of-month and day-of-week fields.")]
    public void Errors_name_the_field_and_the_offending_text(string text, string? field, string? message)
    {
        if (field is null)
        {
            Assert.NotNull(CronExpression.Parse(text));   // L and 5L together are fine (AND)
            return;
        }

        var error = Assert.Throws<CronFormatException>(() => CronExpression.Parse(text));
        Assert.Equal(field, error.Field);
        Assert.Equal(message, error.Message);
        Assert.Equal(text, error.Expression);
    }

    [Theory]
    [InlineData("H * * * *", "Minutes", "'H'")]
    [InlineData("0 H/2 * * *", "Hours", "'H/2'")]
    [InlineData("0 0 H(1-5) * *", "Day of month", "'H(1-5)'")]
    [InlineData("0 0 * * 1-H", "Day of week", "'1-H'")]
    [InlineData("CRON_TZ=Asia/Tokyo h * * * * *", "Seconds", "'h'")]
    public void H_is_rejected_with_a_clear_message(string text, string field, string quoted)
    {
        var error = Assert.Throws<CronFormatException>(() => CronExpression.Parse(text));

        Assert.Equal(field, error.Field);
        Assert.Equal($"{field}: {quoted} uses the jitter character H, which is not supported; write the value explicitly.", error.Message);
    }

    [Fact]
    public void Day_names_containing_H_still_parse() =>
        Assert.Equal(CronExpression.Parse("0 0 * * 4"), CronExpression.Parse("0 0 * * THU"));

    [Theory]
    [InlineData("CRON_TZ=Mars/Olympus * * * * *", "'Mars/Olympus'")]
    [InlineData("CRON_TZ= * * * * *", "names no time zone")]
    [InlineData("TZ=UTC", "not followed by a cron expression")]
    [InlineData("CRON_TZ=UTC TZ=UTC * * * * *", "Only one zone prefix")]
    [InlineData("cron_tz=UTC * * * * *", "upper case")]
    [InlineData("Tz=UTC * * * * *", "upper case")]
    [InlineData("@every 5", "no unit")]
    [InlineData("@every 1d", "'d' is not a unit")]
    [InlineData("@every 0s", "at least 1s")]
    [InlineData("@yearly !", "nothing may follow")]
    [InlineData("@every_hour", "not a known macro")]
    public void Prefix_macro_and_every_errors_say_what_is_wrong(string text, string fragment)
    {
        var error = Assert.Throws<CronFormatException>(() => CronExpression.Parse(text));

        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.Null(error.Field);
    }

    // ---- The corner cases the profile leaves open (see CronExpression's remarks) -----------------------------

    [Theory]
    [InlineData("@EVERY 5m", "@every 5m")]
    [InlineData("@Every 5m", "@every 300s")]
    [InlineData("@every 30m1h", "@every 90m")]        // units in any order, as Go's time.ParseDuration
    [InlineData("@every 1h1h", "@every 2h")]           // repeated units add up, as in Go
    [InlineData("@every 1h0m0s", "@every 1h")]         // zero parts are fine
    [InlineData("@every\t\t5m", "@every 5m")]
    [InlineData("CRON_TZ=UTC\t0 9 * * *", "CRON_TZ=UTC 0 9 * * *")]
    [InlineData("CRON_TZ=UTC   0 9 * * *", "CRON_TZ=UTC 0 9 * * *")]
    [InlineData("@every 1193046h28m15s", "@every 4294967295s")]
    public void Accepted_corner_cases(string text, string same) =>
        Assert.Equal(CronExpression.Parse(same), CronExpression.Parse(text));

    [Theory]
    [InlineData("@every +5m")]
    [InlineData("@every 1.5h")]
    [InlineData("@every 5M")]
    [InlineData("@every 5 m")]
    [InlineData("@every 1193046h28m16s")]
    [InlineData("@every 99999999999999999999999h")]
    [InlineData("cron_tz=UTC 0 9 * * *")]
    [InlineData("CRON_TZ=UTC CRON_TZ=UTC 0 9 * * *")]
    public void Rejected_corner_cases(string text) =>
        Assert.Throws<CronFormatException>(() => CronExpression.Parse(text));

    [Theory]
    [InlineData("@daily", "0 0 * * *")]
    [InlineData("@midnight", "0 0 0 ? * *")]
    [InlineData("@weekly", "0 0 * * 7")]
    [InlineData("0 0 * * SUN", "0 0 0 * * 0")]
    [InlineData("@monthly", "0 0 1 * *")]
    [InlineData("@annually", "@YEARLY")]
    [InlineData("0 0 1 jan *", "0 0 1 1 *")]
    [InlineData("0 9 * * MON-FRI", "0 9 * * 1,2,3,4,5-5")]
    [InlineData("0 22-2 * * *", "0 22,23,0,1,2-2 * * *")]
    [InlineData("CRON_TZ=Asia/Tokyo 0 9 * * *", "TZ=Asia/Tokyo 0 0 9 * * *")]
    public void Equal_when_the_schedule_is_the_same(string a, string b)
    {
        var left = CronExpression.Parse(a);
        var right = CronExpression.Parse(b);

        Assert.Equal(left, right);
        Assert.True(left == right);
        Assert.False(left != right);
        Assert.True(left.Equals((object)right));
        Assert.Equal(left.GetHashCode(), right.GetHashCode());
    }

    [Theory]
    [InlineData("0 */15 9 * * *", "0 0,15,30,45 9 * * *")]   // same instants, but interval vs fixed-time in a DST overlap
    [InlineData("0 9 * * *", "CRON_TZ=UTC 0 9 * * *")]
    [InlineData("CRON_TZ=Asia/Tokyo 0 9 * * *", "CRON_TZ=Asia/Seoul 0 9 * * *")]
    [InlineData("@every 60s", "* * * * *")]
    [InlineData("0 0 L * *", "0 0 L-0W * *")]
    [InlineData("0 0 * * 5#3", "0 0 * * 5#4")]
    public void Not_equal_when_the_schedule_differs(string a, string b)
    {
        var left = CronExpression.Parse(a);
        var right = CronExpression.Parse(b);

        Assert.NotEqual(left, right);
        Assert.True(left != right);
        Assert.False(left.Equals(null));
        Assert.False(left == null);
    }

    // ---- Zones ------------------------------------------------------------------------------------------------

    [Fact]
    public void FindTimeZone_accepts_IANA_and_Windows_ids()
    {
        var windows = CronExpression.FindTimeZone("Eastern Standard Time");
        var expression = CronExpression.Parse("0 30 2 * * *");
        var from = At("2016-03-12T02:30:00-05:00");

        Assert.Equal(NewYork.GetUtcOffset(At("2024-07-01T00:00:00Z")), windows.GetUtcOffset(At("2024-07-01T00:00:00Z")));
        Assert.Equal(expression.GetNextOccurrence(from, NewYork), expression.GetNextOccurrence(from, windows));
        Assert.Equal(At("2016-03-13T03:00:00-04:00"), expression.GetNextOccurrence(from, windows));
        Assert.Same(TimeZoneInfo.Utc, CronExpression.FindTimeZone("UTC"));
        Assert.Equal("Asia/Tokyo", CronExpression.FindTimeZone("Asia/Tokyo").Id);
    }

    [Fact]
    public void FindTimeZone_names_an_unknown_id()
    {
        var error = Assert.Throws<TimeZoneNotFoundException>(() => CronExpression.FindTimeZone("Mars/Olympus"));

        Assert.Contains("'Mars/Olympus'", error.Message, StringComparison.Ordinal);
        Assert.Throws<TimeZoneNotFoundException>(() => CronExpression.FindTimeZone(""));
        Assert.Throws<ArgumentNullException>(() => CronExpression.FindTimeZone(null!));
    }

    [Fact]
    public void Null_zone_is_an_argument_error()
    {
        var expression = CronExpression.Parse("* * * * *");

        Assert.Throws<ArgumentNullException>(() => expression.GetNextOccurrence(DateTimeOffset.UnixEpoch, null!));
        Assert.Throws<ArgumentNullException>(() => expression.GetOccurrences(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null!));
    }

    [Fact]
    public void Every_result_carries_the_zone_offset_at_that_instant()
    {
        var every = CronExpression.Parse("@every 1h");

        Assert.Equal(At("2024-11-03T01:00:00-04:00"), every.GetNextOccurrence(At("2024-11-03T04:30:00Z"), NewYork));
        Assert.Equal(TimeSpan.FromHours(-4), every.GetNextOccurrence(At("2024-11-03T04:30:00Z"), NewYork)!.Value.Offset);
        Assert.Equal(TimeSpan.FromHours(-5), every.GetNextOccurrence(At("2024-11-03T05:30:00Z"), NewYork)!.Value.Offset);
    }

    [Fact]
    public void Results_at_the_ends_of_the_DateTime_range_are_null_not_exceptions()
    {
        var tokyo = CronExpression.FindTimeZone("Asia/Tokyo");
        var everyMinute = CronExpression.Parse("* * * * *");

        Assert.Null(everyMinute.GetNextOccurrence(At("9999-12-31T20:00:00Z"), tokyo));   // local time is in year 10000
        Assert.Null(CronExpression.Parse("@every 1h").GetNextOccurrence(DateTimeOffset.MaxValue, TimeZoneInfo.Utc));
        var first = everyMinute.GetNextOccurrence(DateTimeOffset.MinValue, NewYork, inclusive: true);
        Assert.NotNull(first);
        Assert.True(first.Value >= DateTimeOffset.MinValue);
        Assert.Equal(0, first.Value.Second);
    }

    [Theory]
    [InlineData("* * * * * *")]
    [InlineData("0 0 12 ? * 5#3")]
    [InlineData("0 30 9 L-2 * ?")]
    [InlineData("@every 7s")]
    [InlineData("CRON_TZ=Pacific/Kiritimati 0 0 * * *")]
    public void Extreme_starts_never_throw(string text)
    {
        var expression = CronExpression.Parse(text);
        foreach (var zone in new[] { TimeZoneInfo.Utc, NewYork, CronExpression.FindTimeZone("Pacific/Kiritimati"), CronExpression.FindTimeZone("Pacific/Pago_Pago") })
        {
            foreach (var from in new[] { DateTimeOffset.MinValue, DateTimeOffset.MaxValue, new DateTimeOffset(9999, 12, 31, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset(1, 1, 1, 12, 0, 0, TimeSpan.Zero) })
            {
                foreach (var inclusive in new[] { true, false })
                {
                    var next = expression.GetNextOccurrence(from, zone, inclusive);
                    Assert.True(next is null || next >= from);
                }
            }
        }
    }

    [Fact]
    public void Offset_changes_without_DST_are_gaps_too()
    {
        // Kathmandu moved from +05:30 to +05:45 at local midnight on 1986-01-01, so 00:00-00:14:59 never happened.
        // The engine reads transitions from the zone's offsets, so this is a gap like any spring-forward one.
        var kathmandu = CronExpression.FindTimeZone("Asia/Kathmandu");

        Assert.Equal(
            At("1986-01-01T00:15:00+05:45"),
            CronExpression.Parse("@annually").GetNextOccurrence(At("1985-10-01T00:00:00Z"), kathmandu));
    }

    [Fact]
    public void No_occurrence_is_null()
    {
        Assert.Null(CronExpression.Parse("0 0 30 2 *").GetNextOccurrence(DateTimeOffset.UnixEpoch, NewYork));
        Assert.Null(CronExpression.Parse("0 0 31 4,6,9,11 *").GetNextOccurrence(DateTimeOffset.UnixEpoch, TimeZoneInfo.Utc));
        Assert.Null(CronExpression.Parse("0 0 0 L-30 2 *").GetNextOccurrence(DateTimeOffset.UnixEpoch, TimeZoneInfo.Utc));
    }

    // ---- GetOccurrences ---------------------------------------------------------------------------------------

    [Fact]
    public void GetOccurrences_respects_both_bounds()
    {
        var quarter = CronExpression.Parse("*/15 * * * *");
        var from = At("2025-01-15T10:00:00Z");
        var to = At("2025-01-15T11:00:00Z");

        Assert.Equal(4, quarter.GetOccurrences(from, to, TimeZoneInfo.Utc).Count());
        Assert.Equal(5, quarter.GetOccurrences(from, to, TimeZoneInfo.Utc, toInclusive: true).Count());
        Assert.Equal(3, quarter.GetOccurrences(from, to, TimeZoneInfo.Utc, fromInclusive: false).Count());
        Assert.Equal(
            [At("2025-01-15T10:15:00Z"), At("2025-01-15T10:30:00Z"), At("2025-01-15T10:45:00Z"), At("2025-01-15T11:00:00Z")],
            quarter.GetOccurrences(from, to, TimeZoneInfo.Utc, fromInclusive: false, toInclusive: true));
        Assert.Empty(quarter.GetOccurrences(from, from, TimeZoneInfo.Utc));
        Assert.Single(quarter.GetOccurrences(from, from, TimeZoneInfo.Utc, toInclusive: true));
    }

    [Fact]
    public void GetOccurrences_of_a_reversed_range_is_empty() =>
        Assert.Empty(CronExpression.Parse("* * * * *").GetOccurrences(At("2025-01-02T00:00:00Z"), At("2025-01-01T00:00:00Z"), TimeZoneInfo.Utc, toInclusive: true));

    [Fact]
    public void GetOccurrences_runs_interval_expressions_in_both_passes_of_a_fall_back_overlap()
    {
        var halfHourly = CronExpression.Parse("*/30 * * * *");

        var runs = halfHourly.GetOccurrences(At("2024-11-03T00:00:00-04:00"), At("2024-11-03T03:00:00-05:00"), NewYork);

        Assert.Equal(
            [
                At("2024-11-03T00:00:00-04:00"), At("2024-11-03T00:30:00-04:00"),
                At("2024-11-03T01:00:00-04:00"), At("2024-11-03T01:30:00-04:00"),
                At("2024-11-03T01:00:00-05:00"), At("2024-11-03T01:30:00-05:00"),
                At("2024-11-03T02:00:00-05:00"), At("2024-11-03T02:30:00-05:00"),
            ],
            runs);
        Assert.All(runs, r => Assert.Equal(NewYork.GetUtcOffset(r), r.Offset));
    }

    [Fact]
    public void GetOccurrences_runs_fixed_time_expressions_once_in_an_overlap_and_once_after_a_gap()
    {
        var fixedTimes = CronExpression.Parse("0 0,30 1,2 * * *");

        Assert.Equal(
            [At("2024-11-03T01:00:00-04:00"), At("2024-11-03T01:30:00-04:00"), At("2024-11-03T02:00:00-05:00"), At("2024-11-03T02:30:00-05:00")],
            fixedTimes.GetOccurrences(At("2024-11-03T00:00:00-04:00"), At("2024-11-03T12:00:00-05:00"), NewYork));
        Assert.Equal(
            [At("2024-03-10T01:00:00-05:00"), At("2024-03-10T01:30:00-05:00"), At("2024-03-10T03:00:00-04:00")],
            fixedTimes.GetOccurrences(At("2024-03-10T00:00:00-05:00"), At("2024-03-10T12:00:00-04:00"), NewYork));
    }

    [Fact]
    public void Queries_from_many_threads_agree_with_a_single_thread()
    {
        var expression = CronExpression.Parse("0 0 12 ? * 5#3");
        var zones = new[] { TimeZoneInfo.Utc, NewYork, CronExpression.FindTimeZone("Australia/Lord_Howe"), CronExpression.FindTimeZone("Europe/Berlin") };
        var starts = Enumerable.Range(0, 400).Select(i => At("2001-01-01T00:00:00Z").AddDays(i * 37.3)).ToArray();
        var expected = starts.Select((s, i) => CronExpression.Parse(expression.ToString()).GetNextOccurrence(s, zones[i % zones.Length])).ToArray();

        var actual = new DateTimeOffset?[starts.Length];
        Parallel.For(0, starts.Length * 5, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            var i = k % starts.Length;
            actual[i] = expression.GetNextOccurrence(starts[i], zones[i % zones.Length]);
        });

        Assert.Equal(expected, actual);
    }
}
