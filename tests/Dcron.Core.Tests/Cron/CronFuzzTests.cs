using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit;

namespace DistributedCron.Tests.Cron;

/// <summary>
/// Property tests with FsCheck (fixed seeds, so every run checks the same cases): 40,000 random strings and
/// 60,000 expressions built from field grammar pieces go through Parse and GetNextOccurrence. Only
/// <see cref="CronFormatException"/> may come out; validity must agree with <see cref="ReferenceCron"/>; every
/// result must lie after <c>from</c> (or at it when inclusive), on a whole second, with the zone's offset, and match
/// the expression; in UTC no earlier match may exist.
/// </summary>
public sealed class CronFuzzTests
{
    private const int RandomStringCases = 40_000;
    private const int GrammarCases = 60_000;

    private static readonly TimeZoneInfo[] Zones =
    [
        TimeZoneInfo.Utc,
        CronExpression.FindTimeZone("America/New_York"),
        CronExpression.FindTimeZone("Australia/Lord_Howe"),
        CronExpression.FindTimeZone("Asia/Kathmandu"),
    ];

    private static readonly string[] Pieces =
    [
        "*", "?", "/", "-", ",", " ", " ", " ", "\t", "L", "l", "W", "w", "#", "H", "h", "0", "1", "2", "5", "7", "9",
        "12", "15", "23", "29", "30", "31", "32", "59", "60", "99999999999", "MON", "fri", "JAN", "dec", "SUN", "THU",
        "@", "@every", "@daily", "@every_second", "@hourly", "CRON_TZ=", "TZ=", "UTC", "America/New_York", "Mars/Olympus",
        "m", "s", "ms", ".", "+", "x", "\n", "é", "\0", "٣", "L-", "W#", "*/",
    ];

    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public CronFuzzTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    [Fact]
    public void Random_strings_only_ever_raise_CronFormatException()
    {
        var cases = 0;
        var valid = 0;
        var text = Gen.Choose(0, 24).SelectMany(n => Gen.ArrayOf(Gen.Elements(Pieces), n)).Select(string.Concat);
        var property = Prop.ForAll(Arb.From(Inputs(text)), input =>
        {
            cases++;
            valid += CheckOne(input) ? 1 : 0;
        });

        Check.One(Config(seed: 20250601, RandomStringCases), property);

        Assert.Equal(RandomStringCases, cases);
        _output.WriteLine($"{valid} of {cases} random strings were valid");
    }

    [Fact]
    public void Grammar_expressions_agree_with_the_reference_and_find_matching_occurrences()
    {
        var cases = 0;
        var valid = 0;
        var property = Prop.ForAll(Arb.From(Inputs(Expression())), input =>
        {
            cases++;
            valid += CheckOne(input) ? 1 : 0;
        });

        Check.One(Config(seed: 20250602, GrammarCases), property);

        Assert.Equal(GrammarCases, cases);
        _output.WriteLine($"{valid} of {cases} grammar expressions were valid");
        Assert.True(valid > GrammarCases / 3, "the generator should mostly build valid expressions");
    }

    private static string Rejection(string text)
    {
        try
        {
            CronExpression.Parse(text);
            return "Parse accepted it";
        }
        catch (CronFormatException error)
        {
            return error.Message;
        }
    }

    /// <summary>Fails with the message, built only on failure.</summary>
    private static void Require(bool condition, Func<string> message)
    {
        if (!condition)
        {
            Assert.Fail(message());
        }
    }

    /// <summary>One generated case: the text, a start instant, inclusive, and which zone to pass.</summary>
    public sealed record Input(string Text, DateTimeOffset From, bool Inclusive, int Zone)
    {
        public override string ToString() => $"'{Text}' from {From:O} inclusive={Inclusive} zone={Zones[Zone].Id}";
    }

    private static FsCheck.Config Config(ulong seed, int cases) =>
        FsCheck.Config.QuickThrowOnFailure
            .WithMaxTest(cases)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));

    private static Gen<Input> Inputs(Gen<string> text) =>
        from t in text
        from day in Gen.Choose(0, 47_000)                // 1970 .. 2098
        from second in Gen.Choose(0, 86_399)
        from fraction in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(1, 9_999_999)))
        from inclusive in Gen.Elements(true, false)
        from zone in Gen.Choose(0, Zones.Length - 1)
        select new Input(t, DateTimeOffset.UnixEpoch.AddDays(day).AddSeconds(second).AddTicks(fraction), inclusive, zone);

    /// <summary>Parses with both implementations and checks the next occurrence in the given zone and in UTC; true when valid.</summary>
    private static bool CheckOne(Input input)
    {
        var reference = ReferenceCron.TryParse(input.Text);

        // TryParse runs the same parser without the cost of an exception; any exception it lets out fails the
        // property. Parse itself is checked for the exception type on every eighth rejected input.
        if (!CronExpression.TryParse(input.Text, out var expression))
        {
            Require(reference is null, () => $"rejected but valid for the reference: {input} ({Rejection(input.Text)})");
            if ((input.Text.Length & 7) == 0 || input.Text.Length < 3)
            {
                Assert.Throws<CronFormatException>(() => CronExpression.Parse(input.Text));
            }

            return false;
        }

        if (reference is null)
        {
            Assert.Fail($"accepted but invalid for the reference: {input}");
            return false;
        }

        Assert.Equal(expression, CronExpression.Parse(input.Text));
        CheckNext(expression, reference, input, Zones[input.Zone]);
        if (input.Zone != 0)
        {
            CheckNext(expression, reference, input, TimeZoneInfo.Utc);
        }

        return true;
    }

    private static void CheckNext(CronExpression expression, ReferenceCron reference, Input input, TimeZoneInfo argument)
    {
        var zone = reference.Zone ?? argument;
        var result = expression.GetNextOccurrence(input.From, argument, input.Inclusive);
        if (result is not { } r)
        {
            Require(reference.EverySeconds == 0, () => $"@every always has a next occurrence: {input}");
            // Three years of days: a rule that matches nothing in them is very unlikely to match later.
            for (var day = input.From.UtcDateTime.Date.AddDays(1); day.Year < input.From.Year + 3; day = day.AddDays(1))
            {
                Require(!reference.DayMatches(day), () => $"null, but {day:yyyy-MM-dd} matches: {input}");
            }

            return;
        }

        Require(input.Inclusive ? r >= input.From : r > input.From, () => $"{r:O} is not after the start: {input}");
        Assert.Equal(0, r.UtcTicks % TimeSpan.TicksPerSecond);
        Assert.Equal(zone.GetUtcOffset(r), r.Offset);

        if (reference.EverySeconds != 0)
        {
            var period = reference.EverySeconds * TimeSpan.TicksPerSecond;
            Assert.Equal(0, (r.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) % period);
            var previous = r.UtcTicks - period;
            Require(previous < input.From.UtcTicks || (!input.Inclusive && previous == input.From.UtcTicks), () => $"{r:O} skips an earlier run: {input}");
            return;
        }

        // A match, or the end of a gap (the offset just before r is smaller) in which a local time matched.
        var local = r.DateTime;
        var before = zone.GetUtcOffset(r.AddSeconds(-1));
        Require(
            reference.Matches(local) || (before < r.Offset && MatchesInGap(reference, local, r.Offset - before)),
            () => $"{r:O} does not match and is not the end of a gap with a match in it: {input}");

        if (zone.BaseUtcOffset == TimeSpan.Zero && zone.GetAdjustmentRules().Length == 0)
        {
            AssertNothingEarlierInUtc(reference, input, r.UtcDateTime);
        }
    }

    private static bool MatchesInGap(ReferenceCron reference, DateTime gapEnd, TimeSpan length)
    {
        for (var t = gapEnd - length; t < gapEnd; t = t.AddSeconds(1))
        {
            if (reference.Matches(t))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>No day strictly between start and result matches, and no time does on the start's or the result's day.</summary>
    private static void AssertNothingEarlierInUtc(ReferenceCron reference, Input input, DateTime result)
    {
        var start = input.From.UtcDateTime;
        var startSecond = new DateTime(start.Ticks - (start.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        if (startSecond != start || !input.Inclusive)
        {
            startSecond = startSecond.AddSeconds(1);   // the first whole second that may match
        }

        if (result.Date == startSecond.Date)
        {
            Assert.Equal(FirstTimeOfDay(reference, startSecond.TimeOfDay), result.TimeOfDay);
            return;
        }

        if (reference.DayMatches(startSecond.Date))
        {
            Assert.Null(FirstTimeOfDay(reference, startSecond.TimeOfDay));
        }

        // Day by day for the first 400 days (sparse rules can be years apart; the engine's day search is exercised
        // by those days and by the final checks either way).
        var checkedDays = 0;
        for (var day = startSecond.Date.AddDays(1); day < result.Date && checkedDays < 400; day = day.AddDays(1), checkedDays++)
        {
            Require(!reference.DayMatches(day), () => $"{day:yyyy-MM-dd} matches before {result:O}: {input}");
        }

        Assert.Equal(FirstTimeOfDay(reference, TimeSpan.Zero), result.TimeOfDay);
    }

    /// <summary>The first matching time of day at or after <paramref name="from"/>, by plain loops.</summary>
    private static TimeSpan? FirstTimeOfDay(ReferenceCron reference, TimeSpan from)
    {
        for (var h = from.Hours; h < 24; h++)
        {
            if (!reference.Hours[h])
            {
                continue;
            }

            for (var m = h == from.Hours ? from.Minutes : 0; m < 60; m++)
            {
                if (!reference.Minutes[m])
                {
                    continue;
                }

                for (var s = h == from.Hours && m == from.Minutes ? from.Seconds : 0; s < 60; s++)
                {
                    if (reference.Seconds[s])
                    {
                        return new TimeSpan(h, m, s);
                    }
                }
            }
        }

        return null;
    }

    // ---- The grammar generator --------------------------------------------------------------------------------

    private static readonly string[] Months = ["JAN", "feb", "Mar", "APR", "may", "JUN", "jul", "AUG", "sep", "OCT", "nov", "DEC", "FOO"];
    private static readonly string[] Days = ["SUN", "mon", "Tue", "WED", "thu", "FRI", "sat", "SUT"];

    private static Gen<string> Number(int min, int max) =>
        Gen.Frequency((12, Gen.Choose(min, max)), (1, Gen.Choose(Math.Max(0, min - 1), max + 2))).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Gen<string> Field(int min, int max, string[]? names)
    {
        var value = names is null ? Number(min, max) : Gen.Frequency((3, Number(min, max)), (1, Gen.Elements(names)));
        var step = Gen.Frequency((8, Gen.Choose(1, max)), (1, Gen.Choose(0, max + 2))).Select(s => "/" + s);
        var item = Gen.Frequency(
            (3, Gen.Elements("*", "?")),
            (6, value),
            (3, from a in value from b in value select a + "-" + b),
            (3, from s in step select "*" + s),
            (2, from a in value from s in step select a + s),
            (2, from a in value from b in value from s in step select a + "-" + b + s));
        return Gen.Frequency(
            (6, item),
            (3, Gen.Choose(2, 4).SelectMany(n => Gen.ArrayOf(item, n)).Select(items => string.Join(",", items))));
    }

    private static Gen<string> DayOfMonth() => Gen.Frequency(
        (10, Field(1, 31, null)),
        (1, Gen.Elements("L", "LW", "lw", "l")),
        (1, from n in Gen.Choose(0, 32) from w in Gen.Elements("", "W", "w") select "L-" + n + w),
        (1, from n in Gen.Choose(0, 32) select n + "W"));

    private static Gen<string> DayOfWeek() => Gen.Frequency(
        (10, Field(0, 7, Days)),
        (1, from v in Gen.Frequency((3, Number(0, 7)), (1, Gen.Elements(Days))) select v + "L"),
        (1, from v in Gen.Frequency((3, Number(0, 7)), (1, Gen.Elements(Days))) from k in Gen.Choose(0, 6) select v + "#" + k));

    private static Gen<string> Expression()
    {
        var blank = Gen.Frequency((8, Gen.Constant(" ")), (1, Gen.Elements("  ", "\t", " \t ")));
        var five = from mi in Field(0, 59, null) from b1 in blank
                   from h in Field(0, 23, null) from b2 in blank
                   from dom in DayOfMonth() from b3 in blank
                   from mo in Field(1, 12, Months) from b4 in blank
                   from dow in DayOfWeek()
                   select mi + b1 + h + b2 + dom + b3 + mo + b4 + dow;
        var six = from s in Field(0, 59, null) from b in blank from rest in five select s + b + rest;
        var macro = Gen.Elements("@every_second", "@EVERY_MINUTE", "@hourly", "@Daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@every_hour");
        var part = from n in Gen.Choose(0, 100) from u in Gen.Frequency((8, Gen.Elements("h", "m", "s")), (1, Gen.Elements("ms", "d", ""))) select n + u;
        var every = from p in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(part, n)) from b in blank select "@every" + b + string.Concat(p);
        var body = Gen.Frequency((10, five), (8, six), (1, macro), (2, every));
        var prefixed = from p in Gen.Elements("CRON_TZ=America/New_York ", "TZ=Asia/Tokyo ", "CRON_TZ=UTC\t", "TZ=Europe/Berlin  ", "TZ=Mars/Olympus ", "CRON_TZ= ", "cron_tz=UTC ")
                       from b in body
                       select p + b;
        var expression = Gen.Frequency((10, body), (2, prefixed));

        // Sometimes damage the text: one character inserted or removed.
        return from e in expression
               from damage in Gen.Frequency((12, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Constant(2)))
               from at in Gen.Choose(0, 1000)
               from piece in Gen.Elements(Pieces)
               from pad in Gen.Elements("", " ", "\t ")
               select pad + Damage(e, damage, at, piece) + pad;
    }

    private static string Damage(string text, int kind, int at, string piece) => kind switch
    {
        1 => text.Insert(at % (text.Length + 1), piece),
        2 when text.Length > 0 => text.Remove(at % text.Length, 1),
        _ => text,
    };
}
