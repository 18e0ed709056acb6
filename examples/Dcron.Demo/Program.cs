// Dcron demo: three nodes in one process share one InMemoryRegistry (no server). A dozen tasks fire; after about
// 10 s one node is killed (cut off from the registry with no goodbye, then abandoned): its tasks move to the
// survivors and the fires it missed are caught up. After ~25 s it prints a summary counted from its own run log and
// the cron expressions, and exits 0 only if no occurrence ran twice and none was missed.
using System.Globalization;
using DistributedCron;
using DistributedCron.Demo;

var output = new Lock();
void Write(string line)
{
    lock (output)
    {
        Console.WriteLine(line);
    }
}

var tasks = new List<DemoTask>
{
    new("every-second", "1s", "* * * * * *"),
    new("every-2s", "2s", "*/2 * * * * *"),
    new("every-3s", "3s", "*/3 * * * * *"),
    new("every-5s", "5s", "*/5 * * * * *"),
    new("odd-seconds", "odd", "1-59/2 * * * * *"),
    new("at-4-of-6", "6s", "4/6 * * * * *"),
    new("every-4s", "@4s", "@every 4s"),
    new("every-7s", "@7s", "@every 7s"),
    new("slow-300ms", "slw", "* * * * * *"),
    new("flaky-retry", "fky", "*/2 * * * * *"),
    // Runs once in the cluster, at the first time the clock shows this second (about 6 s from now), then never again.
    new("warmup-once", "one", $"{(DateTimeOffset.UtcNow.Second + 6) % 60} * * * * *", OneShot: true),
    new("dynamic-sync", "dyn", "@every 2s", Dynamic: true),
};
var dynamicTask = tasks[^1];
string[] names = ["node-a", "node-b", "node-c"];
var letters = names.ToDictionary(n => n, n => char.ToUpperInvariant(n[^1]));
var log = new RunLog(tasks, letters, Write);
var consoleLog = new ConsoleLog(Write);
var store = new InMemoryStore();
var engineMissed = 0;
var flakyCalls = 0;

Write("Dcron demo: 3 nodes, one in-memory registry, 12 tasks (seconds cron, @every, a one-shot, a dynamic task).");
Write("Heartbeat 250 ms, node TTL 1.5 s, misfire policy FireAll. Each cell: the node that ran that second's fire");
Write("(A/B/C; '*' = caught up after the owner died, '--' = due but not run yet, blank = not due).");
Write("Rows trail the clock by 2 s; events and log lines are printed as they happen.");
Write("");

var nodes = new List<(Dcron Dcron, PartitionableRegistry Registry)>();
foreach (var id in names)
{
    var registry = new PartitionableRegistry(new InMemoryRegistry(store));
    var dc = new Dcron(registry, o =>
    {
        o.NodeId = id;
        o.NodeIp = "127.0.0.1";
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
        o.NodeTtl = TimeSpan.FromMilliseconds(1500);
        o.CatchUpInterval = TimeSpan.FromSeconds(1);
        o.MisfirePolicy = MisfirePolicy.FireAll;
        o.ShutdownTimeout = TimeSpan.FromSeconds(2);
        o.LoggerFactory = consoleLog;
        o.DynamicTaskHandler = (meta, ctx) =>
        {
            log.Add(ctx);
            return Task.CompletedTask;
        };
    });
    dc.FireCompleted += (_, e) =>
    {
        if (e.Result == FireResult.Missed)
        {
            Interlocked.Increment(ref engineMissed);
        }
    };

    foreach (var t in tasks.Where(t => t != dynamicTask))
    {
        Func<TaskContext, Task> handler = t.Name switch
        {
            "slow-300ms" => async ctx =>
            {
                log.Add(ctx);
                await Task.Delay(300, ctx.CancellationToken);
            },
            "flaky-retry" => ctx =>
            {
                log.Add(ctx);
                return Interlocked.Increment(ref flakyCalls) % 3 == 0
                    ? throw new InvalidOperationException("flaky-retry fails every third call (retried)")
                    : Task.CompletedTask;
            },
            _ => ctx =>
            {
                log.Add(ctx);
                return Task.CompletedTask;
            },
        };
        var options = t.Name == "flaky-retry" ? new TaskOptions { Retry = new RetryOptions { MaxAttempts = 3, Backoff = TimeSpan.FromMilliseconds(100) } } : null;
        if (t.OneShot)
        {
            dc.AddOneShotFunc(t.Name, t.Cron, handler, options);
        }
        else
        {
            dc.AddFunc(t.Name, t.Cron, handler, options);
        }
    }

    nodes.Add((dc, registry));
}

var start = DateTimeOffset.UtcNow;
string T(DateTimeOffset at) => string.Create(CultureInfo.InvariantCulture, $"+{(at - start).TotalSeconds:0.0}s");
var killed = false;
foreach (var (dc, _) in nodes)
{
    dc.AssignmentChanged += (_, e) =>
    {
        if (killed && e.Gained.Count > 0)
        {
            Write($"  {T(DateTimeOffset.UtcNow)} {e.NodeId} takes over {string.Join(", ", e.Gained)} ({e.WorkingNodeCount} working nodes)");
        }
    };
    await dc.StartAsync();
}

// Assignment is recomputed asynchronously after each join: wait (briefly) until the shares are disjoint.
var settleBy = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2);
while (DateTimeOffset.UtcNow < settleBy && nodes.Sum(n => n.Dcron.GetAssignedTasks().Count) != nodes[0].Dcron.GetAllTasks().Count)
{
    await Task.Delay(20);
}

foreach (var (dc, _) in nodes)
{
    Write($"  {dc.NodeId} ({letters[dc.NodeId]}) started, owns {string.Join(", ", dc.GetAssignedTasks())}");
}

static DateTimeOffset Second(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

var windowStart = Second(DateTimeOffset.UtcNow) + TimeSpan.FromSeconds(2);
var row = windowStart;
Write("");
log.PrintHeader();
(Dcron Dcron, PartitionableRegistry Registry) victim = default;
IReadOnlyList<string> victimTasks = [];
DateTimeOffset killedAt = default;
var victimId = "";
var endAt = start + TimeSpan.FromSeconds(21);
var dynamicSeen = false;
while (DateTimeOffset.UtcNow < endAt)
{
    var now = DateTimeOffset.UtcNow;
    if (dynamicTask.AddedAt is null && now - start >= TimeSpan.FromSeconds(5))
    {
        var at = DateTimeOffset.UtcNow;
        await nodes[1].Dcron.AddTaskMetaAsync(new TaskMeta { Name = dynamicTask.Name, CronFormat = dynamicTask.Cron, Payload = "{\"source\":\"demo\"}" });
        dynamicTask.AddedAt = Second(at) + TimeSpan.FromSeconds(1);
        Write($"  {T(at)} node-b adds dynamic task {dynamicTask.Name} ({dynamicTask.Cron}) while every node runs");
    }

    if (dynamicTask.AddedAt is not null && !dynamicSeen && nodes.All(n => n.Dcron.GetAllTasks().Contains(dynamicTask.Name)))
    {
        dynamicSeen = true;
        var owner = nodes.FirstOrDefault(n => n.Dcron.GetAssignedTasks().Contains(dynamicTask.Name)).Dcron?.NodeId ?? "(being assigned)";
        Write($"  {T(DateTimeOffset.UtcNow)} every node knows {dynamicTask.Name}; it is owned by {owner}");
    }

    if (!killed && now - start >= TimeSpan.FromSeconds(10))
    {
        // The owner of the every-second task, so that the fires it misses while dying are visible.
        victim = nodes.OrderByDescending(n => n.Dcron.GetAssignedTasks().Contains("every-second"))
            .ThenByDescending(n => n.Dcron.GetAssignedTasks().Count).First();
        victimId = victim.Dcron.NodeId;
        victimTasks = victim.Dcron.GetAssignedTasks();
        killedAt = DateTimeOffset.UtcNow;
        victim.Registry.Partition();
        killed = true;
        Write($"  {T(killedAt)} KILL {victim.Dcron.NodeId}: cut off from the registry, no goodbye. It owned {string.Join(", ", victimTasks)}");
    }

    // Rows trail the clock by 2 s so that most fires (and quick catch-ups) are in before a row is printed.
    while (row <= Second(now) - TimeSpan.FromSeconds(2))
    {
        log.PrintRow(row, start);
        row += TimeSpan.FromSeconds(1);
    }

    log.PrintLateRuns(start);
    await Task.Delay(100);
}

var windowEnd = row - TimeSpan.FromSeconds(1);
while (row < Second(DateTimeOffset.UtcNow))
{
    log.PrintRow(row, start);
    row += TimeSpan.FromSeconds(1);
}

log.PrintLateRuns(start);
Write("");
Write("  stopping (survivors: leaving, drain, unregister; the abandoned node's stop steps fail and are logged)...");
await Task.WhenAll(nodes.Select(async n =>
{
    await n.Dcron.DisposeAsync();
    await n.Registry.DisposeAsync();
}));

// ---- Summary, counted from the run log and the cron expressions (not from the engine's counters).
var runs = log.Runs;
int due = 0, ran = 0, duplicates = 0, missed = 0, caughtUp = 0;
var missedList = new List<string>();
var onTimeLags = new List<double>();
var slowest = new List<(double Ms, string What)>();
var catchUpLags = new List<double>();
foreach (var t in tasks)
{
    var byOccurrence = runs.Where(r => r.Task == t.Name).GroupBy(r => r.ScheduledAt).ToDictionary(g => g.Key, g => g.ToArray());
    IEnumerable<DateTimeOffset> occurrences = t.OneShot
        ? byOccurrence.Keys.Take(1).DefaultIfEmpty(DateTimeOffset.MinValue)
        : t.Expression.GetOccurrences(t.AddedAt is { } a && a > windowStart ? a : windowStart, windowEnd, TimeZoneInfo.Utc, toInclusive: true);
    foreach (var at in occurrences)
    {
        due++;
        if (!byOccurrence.TryGetValue(at, out var these))
        {
            missed++;
            missedList.Add(t.OneShot ? $"{t.Name} (never ran)" : $"{t.Name}@{T(at)}");
            continue;
        }

        ran++;
        var tokens = these.Select(r => r.Token).Distinct().Count();
        duplicates += tokens - 1;
        foreach (var first in these.Where(r => r.Attempt == 1 && r.ScheduledAt >= windowStart))
        {
            var lagMs = (first.StartedAt - first.ScheduledAt).TotalMilliseconds;
            (first.CatchUp ? catchUpLags : onTimeLags).Add(lagMs);
            if (!first.CatchUp)
            {
                slowest.Add((lagMs, $"{t.Name}@{T(at)} on {first.Node}"));
            }

            caughtUp += first.CatchUp ? 1 : 0;
        }
    }

    if (t.OneShot && byOccurrence.Count > 1)
    {
        duplicates += byOccurrence.Count - 1;
    }
}

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }

    var sorted = values.Order().ToArray();
    return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

var failover = runs.Where(r => r.StartedAt > killedAt && victimTasks.Contains(r.Task) && r.Node != victimId)
    .Select(r => r.StartedAt).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
Write("");
Write($"Summary: window {T(windowStart)} .. {T(windowEnd)} ({(windowEnd - windowStart).TotalSeconds + 1:0} s), counted from the handlers' run log");
Write($"  occurrences due   {due,6}");
Write($"  ran               {ran,6}   ({caughtUp} of them caught up after the kill)");
Write($"  duplicates        {duplicates,6}");
Write($"  missed            {missed,6}{(missedList.Count > 0 ? "   " + string.Join(", ", missedList.Take(10)) : "")}");
Write(string.Create(CultureInfo.InvariantCulture, $"  lag p50 / p99     {Percentile(onTimeLags, 0.5),6:0.0} ms / {Percentile(onTimeLags, 0.99):0.0} ms   (on-time runs; catch-up runs: max {(catchUpLags.Count > 0 ? catchUpLags.Max() / 1000 : 0):0.00} s late)"));
Write("                    slowest on-time starts: " + string.Join(", ", slowest.OrderByDescending(x => x.Ms).Take(3)
    .Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.What} {x.Ms:0.0} ms"))));
Write(failover == DateTimeOffset.MaxValue
    ? "  failover          no task of the killed node ran again (FAIL)"
    : string.Create(CultureInfo.InvariantCulture, $"  failover          {(failover - killedAt).TotalSeconds:0.00} s from the kill of {victimId} to the first run of its tasks elsewhere (node TTL 1.5 s)"));
Write($"  engine            reported {Volatile.Read(ref engineMissed)} missed; {consoleLog.Suppressed} retry/poll warnings of the dead node not shown");

var ok = duplicates == 0 && missed == 0 && failover != DateTimeOffset.MaxValue;
Write(ok ? "OK: every due occurrence ran exactly once." : "FAILED: see above.");
return ok ? 0 : 1;
