using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace DistributedCron.Benchmarks;

/// <summary>
/// <c>footprint [--tasks 100000] [--idle-seconds 30] [--settle-seconds 5] [--catch-up-seconds 5]</c>: one <see cref="Dcron"/> node on an
/// <see cref="InMemoryRegistry"/> (real clock) with that many static tasks on daily, weekday, monthly and
/// twice-daily crons, none due within the next hour; after the start, the managed heap, the working set and
/// the CPU the idle node uses over the idle window, printed as a Markdown table.
/// </summary>
/// <remarks>
/// The in-memory registry keeps its copy of every task's metadata and fire state in this process, so the heap
/// includes it; the table also shows what the same records cost in a second, separate store, to tell the node's
/// share from the registry's.
/// </remarks>
internal static class Footprint
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string[] args)
    {
        var tasks = IntArg(args, "--tasks", 100_000);
        var idle = TimeSpan.FromSeconds(IntArg(args, "--idle-seconds", 30));
        var settle = TimeSpan.FromSeconds(IntArg(args, "--settle-seconds", 5));
        var catchUp = TimeSpan.FromSeconds(IntArg(args, "--catch-up-seconds", (int)new DcronOptions().CatchUpInterval.TotalSeconds));
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        var self = Process.GetCurrentProcess();
        var before = Sample(self);
        var crons = Crons(tasks, DateTimeOffset.UtcNow);
        var cronShare = CronShare(crons);

        var registry = new InMemoryRegistry();
        var dcron = new Dcron(registry, o =>
        {
            o.NodeId = "footprint-node-1";
            o.NodeIp = "127.0.0.1";
            o.CatchUpInterval = catchUp;
        });
        var fires = 0;
        dcron.FireCompleted += (_, _) => Interlocked.Increment(ref fires);
        var owning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dcron.AssignmentChanged += (_, e) =>
        {
            if (e.Owned.Count == tasks)
            {
                owning.TrySetResult();
            }
        };

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < tasks; i++)
        {
            dcron.AddFunc(TaskName(i), crons[i], static _ => Task.CompletedTask);
        }

        var added = clock.Elapsed;
        await dcron.StartAsync(stop.Token).WaitAsync(StartDeadline, stop.Token).ConfigureAwait(false);
        var started = clock.Elapsed;
        if (dcron.GetAssignedTasks().Count < tasks)
        {
            await owning.Task.WaitAsync(StartDeadline, stop.Token).ConfigureAwait(false);
        }

        var owned = clock.Elapsed;
        crons = [];

        // Let the start's catch-up sweep and watch traffic finish before sampling.
        await Task.Delay(settle, stop.Token).ConfigureAwait(false);
        var after = Sample(self);

        // The idle window's samples force no collection, so every GC counted in it is the node's own.
        var idleStart = Sample(self, collect: false);
        var firesBefore = Volatile.Read(ref fires);
        await Task.Delay(idle, stop.Token).ConfigureAwait(false);
        var idleEnd = Sample(self, collect: false);
        var idleFires = Volatile.Read(ref fires) - firesBefore;
        var end = Sample(self);

        var registryShare = await RegistryShareAsync(registry, stop.Token).ConfigureAwait(false);

        // How much of the working set is memory the GC keeps committed from the start's peak: give it all back.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var squeezed = Sample(self);
        GC.KeepAlive(dcron);

        await dcron.DisposeAsync().ConfigureAwait(false);
        await registry.DisposeAsync().ConfigureAwait(false);

        Console.WriteLine($"## Footprint: {tasks:N0} tasks, one node, InMemoryRegistry, catch-up sweep every {catchUp.TotalSeconds} s");
        Print(tasks, added, started, owned, before, after, idleStart, idleEnd, end, squeezed, idleFires, registryShare, cronShare);
        return 0;
    }

    /// <summary>
    /// Crons that do not fire in the next hour: hours are drawn from now+2 h … now+21 h (UTC), minutes and seconds
    /// spread over the hour, so the node's timer queue holds 100k distinct instants.
    /// </summary>
    private static string[] Crons(int count, DateTimeOffset now)
    {
        var result = new string[count];
        for (var i = 0; i < count; i++)
        {
            var hour = (now.Hour + 2 + (i % 10)) % 24;
            var minute = i % 60;
            var second = (i / 60) % 60;
            result[i] = (i % 4) switch
            {
                0 => $"{second} {minute} {hour} * * *", // daily
                1 => $"{second} {minute} {hour} * * 1-5", // weekdays
                2 => $"{second} {minute} {hour} {1 + (i % 28)} * *", // monthly
                _ => $"{second} {minute} {hour},{(hour + 10) % 24} * * *", // twice a day (now+12 … now+21 h)
            };
        }

        return result;
    }

    /// <summary>The heap <paramref name="crons"/> take once parsed (the texts exist already).</summary>
    private static long CronShare(string[] crons)
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        var parsed = new CronExpression[crons.Length];
        for (var i = 0; i < crons.Length; i++)
        {
            parsed[i] = CronExpression.Parse(crons[i]);
        }

        var share = GC.GetTotalMemory(forceFullCollection: true) - heap;
        GC.KeepAlive(parsed);
        return share - (long)IntPtr.Size * parsed.Length; // the array holding them is not the node's
    }

    private static string TaskName(int i) => "task-" + i.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The heap a second store holding the same task records and fire states takes (the registry's part).</summary>
    private static async Task<long> RegistryShareAsync(InMemoryRegistry source, CancellationToken ct)
    {
        var tasks = await source.GetTasksAsync(ct).ConfigureAwait(false);
        var fires = await source.GetFireStatesAsync(ct).ConfigureAwait(false);
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        var copy = new InMemoryRegistry(options: new InMemoryRegistryOptions { Namespace = "copy" });
        // Deep copies: the source store may hold the very TaskMeta and strings the node holds.
        foreach (var meta in tasks.Values)
        {
            await copy.PutTaskAsync(meta with { Name = Copy(meta.Name), CronFormat = Copy(meta.CronFormat) }, ct).ConfigureAwait(false);
        }

        foreach (var state in fires.Values)
        {
            await copy.CanRunTaskAsync(Copy(state.TaskName), state.LastScheduledAt, Copy(state.Owner), ct).ConfigureAwait(false);
        }

        var share = GC.GetTotalMemory(forceFullCollection: true) - heap;
        GC.KeepAlive(copy);
        await copy.DisposeAsync().ConfigureAwait(false);
        return share;
    }

    private static string Copy(string s) => new(s.AsSpan());

    private readonly record struct Snapshot(
        DateTime At, long Heap, long WorkingSet, long PeakWorkingSet, long Committed, TimeSpan Cpu, long Allocated, int Gen0, int Gen1, int Gen2, int Threads);

    private static Snapshot Sample(Process self, bool collect = true)
    {
        var heap = GC.GetTotalMemory(forceFullCollection: collect);
        self.Refresh();
        return new Snapshot(DateTime.UtcNow, heap, self.WorkingSet64, self.PeakWorkingSet64, GC.GetGCMemoryInfo().TotalCommittedBytes, self.TotalProcessorTime,
            GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), self.Threads.Count);
    }

    private static void Print(int tasks, TimeSpan added, TimeSpan started, TimeSpan owned, Snapshot before, Snapshot after,
        Snapshot idleStart, Snapshot idleEnd, Snapshot end, Snapshot squeezed, int idleFires, long registryShare, long cronShare)
    {
        static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " MB";
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

        var wall = (idleEnd.At - idleStart.At).TotalSeconds;
        var cpu = (idleEnd.Cpu - idleStart.Cpu).TotalSeconds;
        var cores = Environment.ProcessorCount;
        var heapDelta = after.Heap - before.Heap;
        Console.WriteLine();
        Console.WriteLine($".NET {Environment.Version}, {cores} cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC" +
            $"{(GCSettings.LatencyMode == GCLatencyMode.Interactive ? " (concurrent)" : "")}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| AddFunc × {tasks:N0} | {F(added.TotalMilliseconds, "F0")} ms |");
        Console.WriteLine($"| StartAsync | {F((started - added).TotalMilliseconds, "F0")} ms |");
        Console.WriteLine($"| start → owns every task | {F((owned - added).TotalMilliseconds, "F0")} ms |");
        Console.WriteLine($"| managed heap before / after start | {Mb(before.Heap)} / {Mb(after.Heap)} |");
        Console.WriteLine($"| managed heap for the tasks (after − before) | {Mb(heapDelta)} ({F((double)heapDelta / tasks, "F0")} B per task) |");
        Console.WriteLine($"| of which the in-memory registry's records (same records in a second store) | {Mb(registryShare)} ({F((double)registryShare / tasks, "F0")} B per task) |");
        Console.WriteLine($"| node's own share (heap for the tasks − registry's records) | {Mb(heapDelta - registryShare)} ({F((double)(heapDelta - registryShare) / tasks, "F0")} B per task) |");
        Console.WriteLine($"| of which the parsed cron expressions (parsed alone, texts not counted) | {Mb(cronShare)} ({F((double)cronShare / tasks, "F0")} B per task) |");
        Console.WriteLine($"| GC committed after start / after the idle window | {Mb(after.Committed)} / {Mb(end.Committed)} |");
        Console.WriteLine($"| peak working set (up to the end of the idle window) | {Mb(end.PeakWorkingSet)} |");
        Console.WriteLine($"| working set before / after start | {Mb(before.WorkingSet)} / {Mb(after.WorkingSet)} |");
        Console.WriteLine($"| managed heap / working set after the idle window | {Mb(end.Heap)} / {Mb(end.WorkingSet)} |");
        Console.WriteLine($"| after an aggressive full GC (decommits free memory; the copy store is garbage by then): heap / committed / working set | {Mb(squeezed.Heap)} / {Mb(squeezed.Committed)} / {Mb(squeezed.WorkingSet)} |");
        Console.WriteLine($"| idle window | {F(wall, "F1")} s, {idleFires} fires |");
        Console.WriteLine($"| idle CPU | {F(cpu * 1000, "F0")} ms = {F(100 * cpu / wall / cores, "F2")} % of the machine ({cores} cores), {F(100 * cpu / wall, "F2")} % of one core |");
        Console.WriteLine($"| allocated while idle | {Mb(idleEnd.Allocated - idleStart.Allocated)} ({F((idleEnd.Allocated - idleStart.Allocated) / wall / 1024, "F1")} KB/s) |");
        Console.WriteLine($"| GCs while idle (gen0 / gen1 / gen2) | {idleEnd.Gen0 - idleStart.Gen0} / {idleEnd.Gen1 - idleStart.Gen1} / {idleEnd.Gen2 - idleStart.Gen2} |");
        Console.WriteLine($"| threads | {idleEnd.Threads} |");
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        if (i < 0)
        {
            return fallback;
        }

        if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v <= 0)
        {
            throw new ArgumentException($"{name} needs a positive integer, got '{(i + 1 < args.Length ? args[i + 1] : "")}'.", nameof(args));
        }

        return v;
    }
}
