using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace DistributedCron.Benchmarks;

/// <summary>
/// The expressions measured, in our syntax and translated for Quartz, whose cron has seconds first, needs '?' in
/// one of the day fields, and numbers weekdays 1 (Sunday) to 7.
/// </summary>
public static class CronCases
{
    /// <summary>Our text → Quartz's text for the same schedule.</summary>
    public static readonly IReadOnlyDictionary<string, string> QuartzText = new Dictionary<string, string>
    {
        // Five fields with an implicit second 0; Quartz writes the step as 0/5 and needs '?' for day of week.
        ["*/5 * * * *"] = "0 0/5 * * * ?",
        // Two days before the last day of the month at 09:30:00: the same text in Quartz.
        ["0 30 9 L-2 * ?"] = "0 30 9 L-2 * ?",
        // The third Friday at noon: Friday is 5 for us (Sunday 0) and 6 for Quartz (Sunday 1).
        ["0 0 12 ? * 5#3"] = "0 0 12 ? * 6#3",
    };

    /// <summary>A start that is not on any of the schedules, a few days before a DST change in New York.</summary>
    public static readonly DateTimeOffset From = new(2025, 3, 5, 10, 3, 27, TimeSpan.Zero);
}

/// <summary>Parsing: ours against Quartz's <c>CronExpression</c> constructor.</summary>
[Config(typeof(ShortJobConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class CronParseBenchmarks
{
    [Params("*/5 * * * *", "0 30 9 L-2 * ?", "0 0 12 ? * 5#3")]
    public string Expression { get; set; } = "";

    private string _quartzText = "";

    [GlobalSetup]
    public void Setup() => _quartzText = CronCases.QuartzText[Expression];

    [Benchmark(Baseline = true)]
    public object Quartz() => new Quartz.CronExpression(_quartzText);

    [Benchmark]
    public object Dcron() => CronExpression.Parse(Expression);
}

/// <summary>The next occurrence after <see cref="CronCases.From"/>, in UTC and in America/New_York.</summary>
[Config(typeof(ShortJobConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class CronNextBenchmarks
{
    [Params("*/5 * * * *", "0 30 9 L-2 * ?", "0 0 12 ? * 5#3")]
    public string Expression { get; set; } = "";

    [Params("UTC", "America/New_York")]
    public string Zone { get; set; } = "";

    private CronExpression _ours = null!;
    private Quartz.CronExpression _quartz = null!;
    private TimeZoneInfo _zone = null!;

    [GlobalSetup]
    public void Setup()
    {
        _zone = CronExpression.FindTimeZone(Zone);
        _ours = CronExpression.Parse(Expression);
        _quartz = new Quartz.CronExpression(CronCases.QuartzText[Expression]) { TimeZone = _zone };

        // Both must compute the same instant, or the comparison means nothing.
        var ours = _ours.GetNextOccurrence(CronCases.From, _zone);
        var theirs = _quartz.GetNextValidTimeAfter(CronCases.From);
        if (ours != theirs)
        {
            throw new InvalidOperationException($"'{Expression}' in {Zone}: ours {ours:O}, Quartz {theirs:O}");
        }
    }

    [Benchmark(Baseline = true)]
    public DateTimeOffset? Quartz() => _quartz.GetNextValidTimeAfter(CronCases.From);

    [Benchmark]
    public DateTimeOffset? Dcron() => _ours.GetNextOccurrence(CronCases.From, _zone);
}
