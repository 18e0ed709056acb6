using System.Globalization;

namespace DistributedCron.Testing.MultiProcess;

/// <summary>What the shared run log of a <see cref="MultiProcessScenario"/> shows, and the exactly-once verdict.</summary>
public sealed class MultiProcessResult
{
    internal MultiProcessResult(MultiProcessScenario scenario, IReadOnlyList<RunRecord> runs, DateTimeOffset windowStart, DateTimeOffset windowEnd,
        string? victim, DateTimeOffset? killedAt, IReadOnlyDictionary<string, int?> exitCodes, string workDir, IReadOnlyDictionary<string, string> hostLogs)
    {
        Scenario = scenario;
        Runs = runs;
        WindowStart = windowStart;
        WindowEnd = windowEnd;
        Victim = victim;
        KilledAt = killedAt;
        ExitCodes = exitCodes;
        WorkDir = workDir;
        HostLogs = hostLogs;
        TaskNames = Enumerable.Range(0, scenario.Tasks).Select(i => "t" + i.ToString("D3", CultureInfo.InvariantCulture)).ToArray();
        if (victim is not null && killedAt is { } k)
        {
            var killMs = k.ToUnixTimeMilliseconds();
            var lastByVictim = runs.Where(r => r.NodeId == victim && r.ScheduledMs <= killMs && r.ScheduledMs >= killMs - 2_500)
                .GroupBy(r => r.Task).ToDictionary(g => g.Key, g => g.Max(r => r.ScheduledMs), StringComparer.Ordinal);
            VictimTasks = lastByVictim.Keys.Order(StringComparer.Ordinal).ToArray();
            var takeovers = runs.Where(r => r.NodeId != victim && lastByVictim.TryGetValue(r.Task, out var last) && r.ScheduledMs > last).ToArray();
            CatchUpRuns = takeovers.Count(r => r.IsCatchUp);
            var firstCatchUp = takeovers.Where(r => r.IsCatchUp).MinBy(r => r.StartedMs);
            var firstAny = takeovers.MinBy(r => r.StartedMs);
            FailoverToCatchUp = firstCatchUp is null ? null : TimeSpan.FromMilliseconds(firstCatchUp.StartedMs - killMs);
            FailoverToFirstRun = firstAny is null ? null : TimeSpan.FromMilliseconds(firstAny.StartedMs - killMs);
        }
    }

    /// <summary>The scenario that ran.</summary>
    public MultiProcessScenario Scenario { get; }

    /// <summary>Every run in the log.</summary>
    public IReadOnlyList<RunRecord> Runs { get; }

    /// <summary>The first whole second of the measured window (UTC).</summary>
    public DateTimeOffset WindowStart { get; }

    /// <summary>The last whole second of the measured window (UTC, inclusive).</summary>
    public DateTimeOffset WindowEnd { get; }

    /// <summary>The killed node, if any.</summary>
    public string? Victim { get; }

    /// <summary>When it was killed.</summary>
    public DateTimeOffset? KilledAt { get; }

    /// <summary>Exit code of each survivor (null: it had to be killed).</summary>
    public IReadOnlyDictionary<string, int?> ExitCodes { get; }

    /// <summary>Where the run log and the hosts' logs are (deleted after a clean run).</summary>
    public string WorkDir { get; }

    /// <summary>Host log path by node id.</summary>
    public IReadOnlyDictionary<string, string> HostLogs { get; }

    /// <summary>t000… as registered.</summary>
    public IReadOnlyList<string> TaskNames { get; }

    /// <summary>The tasks the victim ran just before it was killed.</summary>
    public IReadOnlyList<string> VictimTasks { get; } = [];

    /// <summary>Catch-up runs of the victim's tasks by survivors.</summary>
    public int CatchUpRuns { get; }

    /// <summary>Kill → start of the first catch-up run of a victim's task by a survivor (the failover time).</summary>
    public TimeSpan? FailoverToCatchUp { get; }

    /// <summary>Kill → start of the first run (catch-up or regular) of a victim's task by a survivor.</summary>
    public TimeSpan? FailoverToFirstRun { get; }

    /// <summary>Seconds in the window.</summary>
    public int WindowSeconds => (int)(WindowEnd - WindowStart).TotalSeconds + 1;

    /// <summary>Everything that breaks "every occurrence in the window runs exactly once" (empty when the run is clean).</summary>
    public IReadOnlyList<string> Violations()
    {
        var v = new List<string>();
        var known = new HashSet<string>(TaskNames, StringComparer.Ordinal);
        foreach (var r in Runs.Where(r => !known.Contains(r.Task)).Take(5))
        {
            v.Add($"unknown task in log: {r}");
        }

        foreach (var r in Runs.Where(r => r.ScheduledMs % 1000 != 0).Take(5))
        {
            v.Add($"occurrence not on a whole second: {r}");
        }

        foreach (var g in Runs.GroupBy(r => (r.Task, r.ScheduledMs)).Where(g => g.Count() > 1).Take(20))
        {
            v.Add($"DUPLICATE {g.Key.Task} @ {Show(g.Key.ScheduledMs)}: {string.Join("; ", g.Select(r => $"{r.NodeId} token {r.FencingToken}{(r.IsCatchUp ? " catch-up" : "")}"))}");
        }

        var have = Runs.Select(r => (r.Task, r.ScheduledMs)).ToHashSet();
        var missing = new List<string>();
        for (var t = WindowStart; t <= WindowEnd; t = t.AddSeconds(1))
        {
            var ms = t.ToUnixTimeMilliseconds();
            missing.AddRange(TaskNames.Where(n => !have.Contains((n, ms))).Select(n => $"{n} @ {Show(ms)}"));
        }

        if (missing.Count > 0)
        {
            v.Add($"MISSING {missing.Count} occurrence(s): {string.Join(", ", missing.Take(30))}{(missing.Count > 30 ? ", …" : "")}");
        }

        foreach (var g in Runs.GroupBy(r => r.Task))
        {
            var byToken = g.OrderBy(r => r.FencingToken).ToArray();
            for (var i = 1; i < byToken.Length; i++)
            {
                if (byToken[i].ScheduledMs <= byToken[i - 1].ScheduledMs)
                {
                    v.Add($"fencing tokens not monotonic with occurrences for {g.Key}: {byToken[i - 1]} then {byToken[i]}");
                    break;
                }
            }
        }

        foreach (var (node, code) in ExitCodes.Where(e => e.Value != 0))
        {
            v.Add($"survivor {node} did not stop cleanly (exit {(code?.ToString(CultureInfo.InvariantCulture) ?? "killed after the stop timeout")})");
        }

        if (Victim is not null && VictimTasks.Count == 0)
        {
            v.Add($"the victim {Victim} ran no task just before the kill: the run did not test failover");
        }

        return v;
    }

    /// <summary>Fails (with every violation and where the logs are) unless every occurrence in the window ran exactly once.</summary>
    public void AssertExactlyOnce()
    {
        var v = Violations();
        if (v.Count > 0)
        {
            throw new Xunit.Sdk.XunitException(
                $"The multi-process run is not exactly-once ({v.Count} problem(s)):\n  {string.Join("\n  ", v)}\nLogs: {WorkDir}");
        }
    }

    /// <summary>Human-readable measurements for the test output.</summary>
    public IEnumerable<string> Summary()
    {
        var inWindow = Runs.Where(r => r.ScheduledMs >= WindowStart.ToUnixTimeMilliseconds() && r.ScheduledMs <= WindowEnd.ToUnixTimeMilliseconds()).ToArray();
        yield return $"window {WindowStart:HH:mm:ss}–{WindowEnd:HH:mm:ss} UTC ({WindowSeconds} s × {TaskNames.Count} tasks = {WindowSeconds * TaskNames.Count} occurrences); "
            + $"{inWindow.Length} runs in the window, {Runs.Count} in the log";
        var byNode = inWindow.GroupBy(r => r.NodeId).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}");
        yield return "runs by node: " + string.Join(", ", byNode);
        var regular = inWindow.Where(r => !r.IsCatchUp).Select(r => r.LagMs).Order().ToArray();
        if (regular.Length > 0)
        {
            yield return $"start lag of regular runs: p50 {Pct(regular, 0.50)} ms, p99 {Pct(regular, 0.99)} ms, max {regular[^1]} ms";
        }

        if (Victim is not null)
        {
            yield return $"victim {Victim} owned {VictimTasks.Count} task(s) [{string.Join(", ", VictimTasks)}]; survivors ran {CatchUpRuns} catch-up run(s) of them";
            yield return $"FAILOVER kill → first catch-up run: {Ms(FailoverToCatchUp)}; kill → first run of a victim's task elsewhere: {Ms(FailoverToFirstRun)}";
        }

        var violations = Violations();
        yield return violations.Count == 0 ? "exactly-once: OK (0 duplicates, 0 missing)" : $"exactly-once: {violations.Count} problem(s)";
    }

    private static string Ms(TimeSpan? t) => t is { } v ? $"{v.TotalMilliseconds:0} ms" : "none";

    private static long Pct(long[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string Show(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
