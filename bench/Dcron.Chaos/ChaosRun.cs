using System.Globalization;
using DistributedCron.Testing;
using DistributedCron.Testing.MultiProcess;

namespace DistributedCron.Chaos;

/// <summary>One kill: who, when, and which tasks it had run just before.</summary>
internal sealed record KillEvent(string NodeId, DateTimeOffset At);

/// <summary>What the run produced, for <see cref="ChaosReport"/>.</summary>
internal sealed record ChaosOutcome(
    ChaosOptions Options,
    IReadOnlyList<RunRecord> Runs,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    IReadOnlyList<KillEvent> Kills,
    IReadOnlyDictionary<string, long> OffsetsMs,
    DateTimeOffset? RegistryRestartedAt,
    int NodesStarted,
    string WorkDir);

/// <summary>Runs the cluster: starts, kills and replaces node processes, restarts the registry; every process by PID.</summary>
internal static class ChaosRun
{
    public static async Task<ChaosOutcome> RunAsync(ChaosOptions o, ExternalServer server, string connect, Action<string> say, CancellationToken ct)
    {
        var hostDll = Path.Combine(AppContext.BaseDirectory, "Dcron.TestHost.dll");
        if (!File.Exists(hostDll))
        {
            throw new FileNotFoundException("Dcron.TestHost.dll is not next to Dcron.Chaos.dll.", hostDll);
        }

        var rng = new Random(o.Seed);
        var ns = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        var workDir = Directory.CreateTempSubdirectory("dcron-chaos-").FullName;
        var logPath = Path.Combine(workDir, "runs.log");
        await File.WriteAllTextAsync(logPath, "", ct).ConfigureAwait(false);
        var hosts = new List<HostProcess>();
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var kills = new List<KillEvent>();
        var pendingReady = new List<Task>();
        var next = 0;
        var replaceAt = new Queue<DateTimeOffset>();
        DateTimeOffset? restartedAt = null;

        HostProcess Start()
        {
            var id = "node-" + (++next).ToString("D2", CultureInfo.InvariantCulture);
            var off = o.ClockSkewMs == 0 ? 0 : rng.NextInt64(-o.ClockSkewMs, o.ClockSkewMs + 1);
            offsets[id] = off;
            var args = new List<string>
            {
                "--backend", o.Backend == "consul-emulator" ? "consul" : o.Backend, "--connect", connect, "--namespace", ns, "--node-id", id, "--log", logPath,
                "--tasks", o.Tasks.ToString(CultureInfo.InvariantCulture), "--schedules", string.Join('|', o.Schedules),
            };
            if (off != 0)
            {
                args.AddRange(["--clock-offset-ms", off.ToString(CultureInfo.InvariantCulture)]);
            }

            var h = HostProcess.Start(hostDll, id, args, workDir);
            hosts.Add(h);
            return h;
        }

        try
        {
            for (var i = 0; i < o.Nodes; i++)
            {
                Start();
            }

            await Task.WhenAll(hosts.Select(h => h.WaitReadyAsync(TimeSpan.FromSeconds(90), ct))).ConfigureAwait(false);
            var readyAt = DateTimeOffset.UtcNow;
            say($"{o.Nodes} nodes ready at {readyAt:HH:mm:ss.fff} UTC (pids {string.Join(", ", hosts.Select(h => h.Pid))}); work dir {workDir}");
            var stopAt = readyAt.AddSeconds(o.Duration);
            var nextKill = o.KillEvery > 0 ? FloorSecond(readyAt.AddSeconds(o.KillEvery)).AddMilliseconds(500) : DateTimeOffset.MaxValue;
            var restartAt = o.RestartRegistryAt is { } r ? readyAt.AddSeconds(r) : DateTimeOffset.MaxValue;
            var nextProgress = readyAt.AddSeconds(10);
            while (DateTimeOffset.UtcNow < stopAt)
            {
                var now = DateTimeOffset.UtcNow;
                if (now >= nextKill)
                {
                    // No kill in the last seconds of the run: its failover (NodeTtl + a catch-up pass; Consul: its session
                    // reaping) could not show in the log, and FireAll's catch-up of the victim's fires would come after the stop.
                    var alive = hosts.Where(h => h.IsRunning).ToArray();
                    if (alive.Length > 0 && now < stopAt - QuietEnd(o.Backend))
                    {
                        var victim = alive[rng.Next(alive.Length)];
                        await victim.KillAsync().ConfigureAwait(false);
                        kills.Add(new KillEvent(victim.NodeId, victim.KilledAt ?? now));
                        replaceAt.Enqueue(now.AddSeconds(o.ReplaceAfter));
                        say($"[{(now - readyAt).TotalSeconds,5:0}s] SIGKILL {victim.NodeId} (pid {victim.Pid})");
                    }

                    nextKill = nextKill.AddSeconds(o.KillEvery);
                }

                while (replaceAt.Count > 0 && DateTimeOffset.UtcNow >= replaceAt.Peek())
                {
                    replaceAt.Dequeue();
                    var repl = Start();
                    pendingReady.Add(repl.WaitReadyAsync(TimeSpan.FromSeconds(90), ct));
                    say($"[{(DateTimeOffset.UtcNow - readyAt).TotalSeconds,5:0}s] started replacement {repl.NodeId} (pid {repl.Pid})");
                }

                if (now >= restartAt)
                {
                    say($"[{(now - readyAt).TotalSeconds,5:0}s] restarting the {o.Backend} server (SIGTERM, start on the same port and data)");
                    await server.StopAsync().ConfigureAwait(false);
                    await server.StartAsync(ct).ConfigureAwait(false);
                    restartedAt = now;
                    restartAt = DateTimeOffset.MaxValue;
                    say($"[{(DateTimeOffset.UtcNow - readyAt).TotalSeconds,5:0}s] {o.Backend} server back (pid {server.Pid})");
                }

                if (now >= nextProgress)
                {
                    var runs = File.ReadLines(logPath).Count();
                    say($"[{(now - readyAt).TotalSeconds,5:0}s / {o.Duration}s] runs logged {runs}, nodes alive {hosts.Count(h => h.IsRunning)}, kills {kills.Count}");
                    nextProgress = nextProgress.AddSeconds(10);
                }

                var wait = new[] { nextKill, restartAt, nextProgress, stopAt, replaceAt.Count > 0 ? replaceAt.Peek() : DateTimeOffset.MaxValue }.Min() - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                }
            }

            // With clock skew a node fires occurrence s at real time s − offset: keep the window clear of the edges by the skew.
            var margin = TimeSpan.FromMilliseconds(o.ClockSkewMs);
            var windowStart = CeilSecond(readyAt.AddSeconds(o.Settle) + margin);
            var windowEnd = FloorSecond(stopAt - margin).AddSeconds(-1);
            await DrainAsync(logPath, windowEnd, say, ct).ConfigureAwait(false);
            var codes = await Task.WhenAll(hosts.Where(h => h.IsRunning).Select(async h => (h.NodeId, Code: await h.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))))
                .ConfigureAwait(false);
            say($"stopped {codes.Length} nodes: {string.Join(", ", codes.Select(c => $"{c.NodeId} exit {(c.Code?.ToString(CultureInfo.InvariantCulture) ?? "killed")}"))}");
            foreach (var t in pendingReady.Where(t => t.IsFaulted))
            {
                say("a replacement never became ready: " + t.Exception?.GetBaseException().Message);
            }

            return new ChaosOutcome(o, RunRecord.ReadLog(logPath), windowStart, windowEnd, kills, offsets, restartedAt, next, workDir);
        }
        finally
        {
            foreach (var h in hosts)
            {
                await h.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var t in pendingReady)
            {
                // Observed above (or the run failed before): a replacement that exited early is not an error of the cleanup.
                _ = t.Exception;
            }
        }
    }

    /// <summary>
    /// Lets the nodes finish the window's backlog before they stop: waits until no run of an occurrence at or before
    /// <paramref name="windowEnd"/> has been logged for 3 s (at most 90 s, above MisfireGrace's default of 60 s).
    /// </summary>
    private static async Task DrainAsync(string logPath, DateTimeOffset windowEnd, Action<string> say, CancellationToken ct)
    {
        var endMs = windowEnd.ToUnixTimeMilliseconds();
        var started = DateTimeOffset.UtcNow;
        var last = -1;
        var lastChange = started;
        while (DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(90))
        {
            var n = RunRecord.ReadLog(logPath).Count(r => r.ScheduledMs <= endMs);
            if (n != last)
            {
                last = n;
                lastChange = DateTimeOffset.UtcNow;
            }
            else if (DateTimeOffset.UtcNow - lastChange >= TimeSpan.FromSeconds(3))
            {
                break;
            }

            await Task.Delay(500, ct).ConfigureAwait(false);
        }

        say(string.Create(CultureInfo.InvariantCulture, $"drained the window's runs in {(DateTimeOffset.UtcNow - started).TotalSeconds:0.0} s ({last} runs up to {windowEnd:HH:mm:ss})"));
    }

    /// <summary>The end of the run without kills: above the backend's failover time.</summary>
    public static TimeSpan QuietEnd(string backend) => TimeSpan.FromSeconds(backend == "consul-emulator" ? 25 : 10);

    private static DateTimeOffset FloorSecond(DateTimeOffset t) => DateTimeOffset.FromUnixTimeSeconds(t.ToUnixTimeSeconds());

    private static DateTimeOffset CeilSecond(DateTimeOffset t)
    {
        var f = FloorSecond(t);
        return f == t ? f : f.AddSeconds(1);
    }
}
