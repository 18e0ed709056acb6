using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace DistributedCron.Demo;

/// <summary>One handler invocation, as the handler saw it.</summary>
internal sealed record DemoRun(string Task, DateTimeOffset ScheduledAt, string Node, bool CatchUp, long Token, int Attempt, DateTimeOffset StartedAt);

/// <summary>A task shown in the table and counted in the summary.</summary>
internal sealed record DemoTask(string Name, string Label, string Cron, bool OneShot = false, bool Dynamic = false)
{
    public CronExpression Expression { get; } = CronExpression.Parse(Cron);

    /// <summary>When the task came to exist (dynamic tasks are added mid-run).</summary>
    public DateTimeOffset? AddedAt { get; set; }

    public bool IsDue(DateTimeOffset second) =>
        (Dynamic ? AddedAt is { } a && second >= a : true) && Expression.GetNextOccurrence(second, TimeZoneInfo.Utc, inclusive: true) == second;
}

/// <summary>
/// The run log the demo counts from, independently of the engine: every handler call is appended, and the table
/// and the summary are computed from it and from the cron expressions.
/// </summary>
internal sealed class RunLog(IReadOnlyList<DemoTask> tasks, IReadOnlyDictionary<string, char> letters, Action<string> write)
{
    private readonly ConcurrentQueue<DemoRun> _runs = new();
    private readonly HashSet<(string, DateTimeOffset)> _shown = new();
    private DateTimeOffset _printedFrom = DateTimeOffset.MaxValue;
    private DateTimeOffset _printedUpTo = DateTimeOffset.MinValue;

    public void Add(TaskContext ctx) =>
        _runs.Enqueue(new DemoRun(ctx.TaskName, ctx.ScheduledAt, ctx.NodeId, ctx.IsCatchUp, ctx.FencingToken, ctx.Attempt, DateTimeOffset.UtcNow));

    public IReadOnlyList<DemoRun> Runs => _runs.ToArray();

    public void PrintHeader()
    {
        var sb = new StringBuilder("  second   ");
        foreach (var t in tasks)
        {
            sb.Append(t.Label.PadRight(4));
        }

        write(sb.ToString());
    }

    /// <summary>Prints the row of one second: who ran each occurrence ('*' = caught up, '--' = due, not run yet, '!!' = ran twice).</summary>
    public void PrintRow(DateTimeOffset second, DateTimeOffset start)
    {
        var runs = Runs;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"  +{(second - start).TotalSeconds,5:0}s  ");
        foreach (var t in tasks)
        {
            var these = runs.Where(r => r.Task == t.Name && r.ScheduledAt == second).ToArray();
            var tokens = these.Select(r => r.Token).Distinct().Count();
            string cell;
            if (tokens > 1)
            {
                cell = "!!";
            }
            else if (tokens == 1)
            {
                cell = $"{letters[these[0].Node]}{(these[0].CatchUp ? "*" : " ")}";
                _shown.Add((t.Name, second));
            }
            else
            {
                cell = t.IsDue(second) && !t.OneShot ? "--" : "  ";
            }

            sb.Append(cell.PadRight(4));
        }

        write(sb.ToString());
        _printedFrom = second < _printedFrom ? second : _printedFrom;
        _printedUpTo = second;
    }

    /// <summary>Prints runs of already printed seconds that arrived late (caught up after a failover).</summary>
    public void PrintLateRuns(DateTimeOffset start)
    {
        foreach (var r in Runs.Where(r => r.ScheduledAt >= _printedFrom && r.ScheduledAt <= _printedUpTo && r.Attempt == 1).OrderBy(r => r.ScheduledAt))
        {
            if (_shown.Add((r.Task, r.ScheduledAt)))
            {
                write(string.Create(CultureInfo.InvariantCulture,
                    $"           -> {r.Task} of +{(r.ScheduledAt - start).TotalSeconds:0}s {(r.CatchUp ? "caught up" : "ran late")} on {r.Node} ({(r.StartedAt - r.ScheduledAt).TotalSeconds:0.00} s late)"));
            }
        }
    }
}
