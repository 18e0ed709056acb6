using System.Globalization;

namespace DistributedCron.Testing.MultiProcess;

/// <summary>Runs a <see cref="MultiProcessScenario"/> and returns what the shared log shows.</summary>
public static class MultiProcessRun
{
    /// <summary>
    /// Starts the hosts, kills the victim, stops the survivors, reads the log. Every process is killed by its own
    /// PID on the way out, whatever happens. <paramref name="output"/> receives progress lines (test output).
    /// </summary>
    public static async Task<MultiProcessResult> RunAsync(MultiProcessScenario s, Action<string>? output = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!File.Exists(s.HostDll))
        {
            throw new FileNotFoundException(
                $"Test host not found at {s.HostDll}: add <ProjectReference Include=\"../Dcron.TestHost/Dcron.TestHost.csproj\" /> to the test project.", s.HostDll);
        }

        var say = output ?? (_ => { });
        var workDir = Directory.CreateTempSubdirectory("dcron-mp-").FullName;
        var logPath = Path.Combine(workDir, "runs.log");
        File.WriteAllText(logPath, "");
        var hosts = new List<HostProcess>();
        var ok = false;
        try
        {
            for (var i = 0; i < s.Nodes; i++)
            {
                var id = $"node-{i + 1}";
                hosts.Add(HostProcess.Start(s.HostDll, id, HostArgs(s, id, i, logPath), workDir));
            }

            await Task.WhenAll(hosts.Select(h => h.WaitReadyAsync(s.StartTimeout, ct))).ConfigureAwait(false);
            var readyAt = DateTimeOffset.UtcNow;
            say($"{s.Nodes} hosts ready at {readyAt:HH:mm:ss.fff} (pids {string.Join(", ", hosts.Select(h => h.Pid))}); work dir {workDir}");

            HostProcess? victim = null;
            DateTimeOffset? killedAt = null;
            if (s.Kill)
            {
                // The middle of a second: every-second fires start at .000 plus a few ms, so none is in flight.
                var killAt = FloorSecond(readyAt + s.KillAfter).AddMilliseconds(500);
                await DelayUntilAsync(killAt, ct).ConfigureAwait(false);
                victim = PickVictim(hosts, logPath, killAt);
                await victim.KillAsync().ConfigureAwait(false);
                killedAt = victim.KilledAt;
                say($"killed {victim.NodeId} (pid {victim.Pid}) with SIGKILL at {killedAt:HH:mm:ss.fff}");
            }

            var stopAt = readyAt + s.RunFor;
            await DelayUntilAsync(stopAt, ct).ConfigureAwait(false);
            var stopping = DateTimeOffset.UtcNow;
            var codes = await Task.WhenAll(hosts.Where(h => h.IsRunning).Select(async h => (h.NodeId, Code: await h.StopAsync(s.StopTimeout).ConfigureAwait(false))))
                .ConfigureAwait(false);
            say($"stopped survivors at {stopping:HH:mm:ss.fff}: {string.Join(", ", codes.Select(c => $"{c.NodeId} exit {(c.Code?.ToString(CultureInfo.InvariantCulture) ?? "killed")}"))}");

            var windowStart = CeilSecond(readyAt + s.Settle);
            var windowEnd = FloorSecond(stopping).AddSeconds(-1);
            var result = new MultiProcessResult(s, RunRecord.ReadLog(logPath), windowStart, windowEnd, victim?.NodeId, killedAt,
                codes.ToDictionary(c => c.NodeId, c => c.Code), workDir, hosts.ToDictionary(h => h.NodeId, h => h.StderrPath));
            foreach (var line in result.Summary())
            {
                say(line);
            }

            ok = result.Violations().Count == 0;
            return result;
        }
        finally
        {
            foreach (var h in hosts)
            {
                if (!ok)
                {
                    say($"--- {h.NodeId} stderr tail ---\n{h.StderrTail(15)}");
                }

                await h.DisposeAsync().ConfigureAwait(false);
            }

            if (ok)
            {
                TryDelete(workDir);
            }
            else
            {
                say($"run log and host logs kept in {workDir}");
            }
        }
    }

    private static IEnumerable<string> HostArgs(MultiProcessScenario s, string nodeId, int index, string logPath)
    {
        var a = new List<string>
        {
            "--backend", s.Backend, "--connect", s.Connect, "--namespace", s.Namespace, "--node-id", nodeId,
            "--log", logPath, "--tasks", s.Tasks.ToString(CultureInfo.InvariantCulture),
        };
        void Ms(string name, TimeSpan? v)
        {
            if (v is { } t)
            {
                a.AddRange([name, ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]);
            }
        }

        Ms("--heartbeat-ms", s.Heartbeat);
        Ms("--ttl-ms", s.Ttl);
        Ms("--catch-up-ms", s.CatchUpInterval);
        Ms("--clock-offset-ms", index < s.ClockOffsets.Count && s.ClockOffsets[index] != TimeSpan.Zero ? s.ClockOffsets[index] : null);
        a.AddRange(s.ExtraArgs);
        return a;
    }

    /// <summary>The host that ran the most distinct tasks in the two seconds before <paramref name="at"/> (so the kill matters).</summary>
    private static HostProcess PickVictim(List<HostProcess> hosts, string logPath, DateTimeOffset at)
    {
        var since = at.AddSeconds(-2.5).ToUnixTimeMilliseconds();
        var owned = RunRecord.ReadLog(logPath).Where(r => r.ScheduledMs >= since)
            .GroupBy(r => r.NodeId).ToDictionary(g => g.Key, g => g.Select(r => r.Task).Distinct().Count());
        return hosts.Where(h => h.IsRunning).OrderByDescending(h => owned.GetValueOrDefault(h.NodeId)).ThenBy(h => h.NodeId, StringComparer.Ordinal).First();
    }

    private static async Task DelayUntilAsync(DateTimeOffset when, CancellationToken ct)
    {
        var d = when - DateTimeOffset.UtcNow;
        if (d > TimeSpan.Zero)
        {
            await Task.Delay(d, ct).ConfigureAwait(false);
        }
    }

    private static DateTimeOffset FloorSecond(DateTimeOffset t) => DateTimeOffset.FromUnixTimeSeconds(t.ToUnixTimeSeconds());

    private static DateTimeOffset CeilSecond(DateTimeOffset t)
    {
        var f = FloorSecond(t);
        return f == t ? f : f.AddSeconds(1);
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
