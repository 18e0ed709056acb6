using System.Globalization;
using System.Text;
using DistributedCron.TestHost;
using DistributedCron.Testing.MultiProcess;

namespace DistributedCron.Chaos;

/// <summary>Counts every (task, occurrence) of the window and renders the result as Markdown.</summary>
internal sealed class ChaosReport
{
    private readonly ChaosOutcome _o;

    public ChaosReport(ChaosOutcome o)
    {
        _o = o;
        var from = o.WindowStart.ToUnixTimeMilliseconds();
        var to = o.WindowEnd.ToUnixTimeMilliseconds();
        var inWindow = o.Runs.Where(r => r.ScheduledMs >= from && r.ScheduledMs <= to).ToArray();
        Runs = inWindow.Length;
        WindowSeconds = (int)(o.WindowEnd - o.WindowStart).TotalSeconds + 1;
        Duplicates = inWindow.GroupBy(r => (r.Task, r.ScheduledMs)).Sum(g => g.Count() - 1);
        var have = inWindow.Select(r => (r.Task, r.ScheduledMs)).ToHashSet();
        var schedules = o.Options.Schedules;
        var crons = schedules.Select(CronExpression.Parse).ToArray();
        var scheduleOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var missing = new List<string>();
        var kinds = schedules.Select(_ => new KindCount()).ToArray();
        for (var i = 0; i < o.Options.Tasks; i++)
        {
            var name = HostArgs.TaskName(i);
            var k = i % crons.Length;
            scheduleOf[name] = k;
            foreach (var at in crons[k].GetOccurrences(o.WindowStart, o.WindowEnd, TimeZoneInfo.Utc, fromInclusive: true, toInclusive: true))
            {
                kinds[k].Due++;
                if (!have.Contains((name, at.ToUnixTimeMilliseconds())))
                {
                    kinds[k].Missed++;
                    missing.Add($"{name}@{at:HH:mm:ss}");
                }
            }
        }

        Due = kinds.Sum(k => k.Due);
        Missed = missing.Count;
        MissedSample = missing.Take(20).ToArray();
        CatchUps = inWindow.Count(r => r.IsCatchUp);

        // Lag on the node's own clock: started (real) + its offset − scheduled.
        long Lag(RunRecord r) => r.StartedMs + o.OffsetsMs.GetValueOrDefault(r.NodeId) - r.ScheduledMs;
        var regular = inWindow.Where(r => !r.IsCatchUp).ToArray();
        Lags = regular.Select(Lag).Order().ToArray();
        foreach (var g in inWindow.GroupBy(r => scheduleOf.GetValueOrDefault(r.Task, -1)).Where(g => g.Key >= 0))
        {
            kinds[g.Key].Runs = g.Count();
            kinds[g.Key].Duplicates = g.GroupBy(r => (r.Task, r.ScheduledMs)).Sum(d => d.Count() - 1);
            kinds[g.Key].Lags = g.Where(r => !r.IsCatchUp).Select(Lag).Order().ToArray();
        }

        Kinds = kinds;
        Failovers = o.Kills.Select(k => Failover(o.Runs, k)).ToArray();
    }

    /// <summary>Counts of one schedule of the mix.</summary>
    public sealed class KindCount
    {
        public long Due { get; set; }

        public int Runs { get; set; }

        public int Duplicates { get; set; }

        public int Missed { get; set; }

        public long[] Lags { get; set; } = [];
    }

    /// <summary>One entry per schedule of <see cref="ChaosOptions.Schedules"/>.</summary>
    public IReadOnlyList<KindCount> Kinds { get; }

    public int WindowSeconds { get; }

    public long Due { get; }

    public int Runs { get; }

    public int Duplicates { get; }

    public int Missed { get; }

    public IReadOnlyList<string> MissedSample { get; }

    public int CatchUps { get; }

    public long[] Lags { get; }

    public IReadOnlyList<(KillEvent Kill, int Owned, long? ToCatchUpMs)> Failovers { get; }

    public bool Clean => Duplicates == 0 && Missed == 0;

    public string Markdown()
    {
        var op = _o.Options;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"# Chaos run: {op.Backend}");
        sb.AppendLine();
        sb.AppendLine(string.Create(inv, $"Command: `dotnet run -c Release --project bench/Dcron.Chaos -- --backend {op.Backend} --nodes {op.Nodes} --tasks {op.Tasks} ")
            + string.Create(inv, $"--duration {op.Duration} --kill-every {op.KillEvery}{(op.ReplaceAfter > 0 ? $" --replace-after {op.ReplaceAfter}" : "")}{(op.ClockSkewMs > 0 ? $" --clock-skew-ms {op.ClockSkewMs}" : "")}"
            + $"{(op.RestartRegistryAt is { } r ? $" --restart-registry-at {r}" : "")}"
            + $"{(string.Join('|', op.Schedules) == ChaosOptions.DefaultSchedules ? "" : $" --schedules \"{string.Join('|', op.Schedules)}\"")} --seed {op.Seed}`"));
        sb.AppendLine();
        sb.AppendLine(string.Create(inv, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; one {op.Backend} server on 127.0.0.1 ")
            + string.Create(inv, $"started by the tool; {op.Nodes} Dcron.TestHost processes at a time ({_o.NodesStarted} started in all), each with the same {op.Tasks} tasks ")
            + string.Create(inv, $"(task i on schedule i mod {op.Schedules.Count} of: {string.Join(", ", op.Schedules.Select(x => $"`{x}`"))}), ")
            + "MisfirePolicy.FireAll, engine defaults (heartbeat 1 s, NodeTtl 5 s, catch-up 5 s)."
            + (File.Exists("/proc/loadavg") ? $" Load average (1, 5, 15 min) at the end: {string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}." : ""));
        sb.AppendLine();
        sb.AppendLine(string.Create(inv, $"Window: {_o.WindowStart:yyyy-MM-dd HH:mm:ss}–{_o.WindowEnd:HH:mm:ss} UTC ({WindowSeconds} s), kills: {_o.Kills.Count} (SIGKILL, {(op.ReplaceAfter > 0 ? $"replacement started {op.ReplaceAfter} s later" : "replacement started at once")})"
            + $"{(_o.RegistryRestartedAt is { } at ? $", registry restarted at {at:HH:mm:ss}" : "")}"
            + $"{(op.ClockSkewMs > 0 ? $", clock offsets: {string.Join(", ", _o.OffsetsMs.Select(kv => $"{kv.Key} {kv.Value:+0;-0;0} ms"))}" : "")}."));
        sb.AppendLine();
        sb.AppendLine("| measure | value |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(inv, $"| occurrences due | {Due} |");
        sb.AppendLine(inv, $"| runs | {Runs} (of which catch-up {CatchUps}) |");
        sb.AppendLine(inv, $"| duplicates | {Duplicates} |");
        sb.AppendLine(inv, $"| missed (FireAll: every due occurrence must run) | {Missed} |");
        sb.AppendLine(inv, $"| fire lag p50 / p99 / max (regular runs) | {LagText(Lags)} |");
        var fo = Failovers.Where(f => f.ToCatchUpMs is not null).Select(f => f.ToCatchUpMs!.Value).Order().ToArray();
        var foText = fo.Length == 0 ? "n/a" : string.Create(inv, $"{fo[0]} / {fo[fo.Length / 2]} / {fo[^1]} ms ({fo.Length} of {Failovers.Count} kills)");
        sb.AppendLine(inv, $"| failover (kill → first catch-up run of a dead node's task) min / median / max | {foText} |");
        sb.AppendLine(inv, $"| successful claims per second (runs / window) | {(double)Runs / WindowSeconds:0.0} |");
        sb.AppendLine(inv, $"| verdict | {(Clean ? "exactly-once: OK" : "NOT exactly-once")} |");
        sb.AppendLine();
        sb.AppendLine("| schedule | tasks | due | runs | duplicates | missed | lag p50 / p99 / max |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        for (var k = 0; k < Kinds.Count; k++)
        {
            var c = Kinds[k];
            var tasks = (op.Tasks / op.Schedules.Count) + (k < op.Tasks % op.Schedules.Count ? 1 : 0);
            sb.AppendLine(inv, $"| `{op.Schedules[k]}` | {tasks} | {c.Due} | {c.Runs} | {c.Duplicates} | {c.Missed} | {LagText(c.Lags)} |");
        }

        sb.AppendLine();
        if (MissedSample.Count > 0)
        {
            sb.AppendLine(inv, $"Missed (first 20): {string.Join(", ", MissedSample)}");
            sb.AppendLine();
        }

        sb.AppendLine("| kill | node | at (UTC) | tasks it owned | failover |");
        sb.AppendLine("|---|---|---|---|---|");
        var n = 0;
        foreach (var (k, owned, ms) in Failovers)
        {
            sb.AppendLine(inv, $"| {++n} | {k.NodeId} | {k.At:HH:mm:ss.fff} | {owned} | {(ms is { } v ? v + " ms" : "no catch-up run")} |");
        }

        return sb.ToString();
    }

    /// <summary>The header of the history file (<see cref="HistoryRow"/> appends under it).</summary>
    public const string HistoryHeader = "| finished (UTC) | backend | nodes × tasks | schedules | duration | kill every | skew | registry restart "
        + "| due | runs | duplicates | missed | lag p50 / p99 / max | failover median / max | claims/s | seed |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

    /// <summary>This run as one Markdown table row, for the history file every run appends to.</summary>
    public string HistoryRow(DateTimeOffset finished)
    {
        var op = _o.Options;
        var fo = Failovers.Where(f => f.ToCatchUpMs is not null).Select(f => f.ToCatchUpMs!.Value).Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture,
            $"| {finished:yyyy-MM-dd HH:mm} | {op.Backend} | {op.Nodes} × {op.Tasks} | {string.Join(", ", op.Schedules.Select(x => $"`{x}`"))} | {op.Duration} s | "
            + $"{(op.KillEvery > 0 ? $"{op.KillEvery} s" : "no kills")} | {(op.ClockSkewMs > 0 ? $"±{op.ClockSkewMs} ms" : "none")} | "
            + $"{(op.RestartRegistryAt is { } r ? $"at {r} s" : "no")} | {Due} | {Runs} | {Duplicates} | {Missed} | {LagText(Lags)} | "
            + $"{(fo.Length == 0 ? "n/a" : $"{fo[fo.Length / 2]} / {fo[^1]} ms")} | {(double)Runs / WindowSeconds:0.0} | {op.Seed} |\n");
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    public static long Pct(long[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string LagText(long[] sorted) =>
        sorted.Length == 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{Pct(sorted, 0.50)} / {Pct(sorted, 0.99)} / {sorted[^1]} ms");

    /// <summary>Kill → start of the first catch-up run by another node of a task the victim ran in the 2.5 s before the kill.</summary>
    private static (KillEvent, int, long?) Failover(IReadOnlyList<RunRecord> runs, KillEvent k)
    {
        var killMs = k.At.ToUnixTimeMilliseconds();
        var last = runs.Where(r => r.NodeId == k.NodeId && r.StartedMs <= killMs && r.StartedMs >= killMs - 2_500)
            .GroupBy(r => r.Task).ToDictionary(g => g.Key, g => g.Max(r => r.ScheduledMs), StringComparer.Ordinal);
        var first = runs.Where(r => r.NodeId != k.NodeId && r.IsCatchUp && r.StartedMs > killMs && last.TryGetValue(r.Task, out var l) && r.ScheduledMs > l)
            .Select(r => (long?)r.StartedMs).Min();
        return (k, last.Count, first - killMs);
    }
}
