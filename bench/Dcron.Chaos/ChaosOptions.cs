using System.Globalization;
using DistributedCron.TestHost;

namespace DistributedCron.Chaos;

/// <summary>The command line of the chaos run.</summary>
internal sealed record ChaosOptions
{
    public const string Usage = "usage: Dcron.Chaos --backend redis|etcd|zookeeper|consul-emulator [--nodes 5] [--tasks 200] [--duration 600] "
        + "[--schedules \"cron|cron…\"] [--kill-every 15] [--replace-after 0] [--clock-skew-ms 0] [--restart-registry-at S] [--settle 3] "
        + "[--seed N] [--out docs/chaos-<backend>.md] [--history FILE]";

    /// <summary>The default task mix: every second (six fields), an epoch-aligned <c>@every</c>, every minute (five fields).</summary>
    public const string DefaultSchedules = "* * * * * *|@every 2s|* * * * *";

    /// <summary>The backends the tool can start a server for.</summary>
    public static readonly IReadOnlyList<string> Backends = ["redis", "etcd", "zookeeper", "consul-emulator"];

    public required string Backend { get; init; }

    public int Nodes { get; init; } = 5;

    public int Tasks { get; init; } = 200;

    /// <summary>Task <c>i</c> runs on schedule <c>i mod Count</c>.</summary>
    public IReadOnlyList<string> Schedules { get; init; } = DefaultSchedules.Split('|');

    /// <summary>Seconds the cluster runs after all first nodes are ready.</summary>
    public int Duration { get; init; } = 600;

    /// <summary>Seconds between kills (0: no kills).</summary>
    public int KillEvery { get; init; } = 15;

    /// <summary>Seconds between a kill and the start of its replacement (0: at once).</summary>
    public int ReplaceAfter { get; init; }

    /// <summary>Each process gets a clock offset drawn uniformly from ±this (0: none).</summary>
    public int ClockSkewMs { get; init; }

    /// <summary>Seconds after ready when the registry server is restarted (null: never).</summary>
    public int? RestartRegistryAt { get; init; }

    /// <summary>Seconds after ready before the measured window starts.</summary>
    public int Settle { get; init; } = 3;

    public int Seed { get; init; } = Environment.TickCount;

    public string? Out { get; init; }

    /// <summary>The file each run appends its one-line summary to (a Markdown table row).</summary>
    public string History { get; init; } = "chaos-history.md";

    public static ChaosOptions Parse(string[] args)
    {
        var v = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected '--name value', got '{args[i]}'.");
            }

            v[args[i][2..]] = args[i + 1];
        }

        int Int(string name, int def) => v.TryGetValue(name, out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : def;
        var backend = v.TryGetValue("backend", out var b) ? b : throw new ArgumentException("Missing --backend.");
        if (!Backends.Contains(backend))
        {
            throw new ArgumentException($"Unknown backend '{backend}' (expected one of {string.Join(", ", Backends)}).");
        }

        var known = new HashSet<string>(["backend", "nodes", "tasks", "schedules", "duration", "kill-every", "replace-after", "clock-skew-ms",
            "restart-registry-at", "settle", "seed", "out", "history"]);
        foreach (var k in v.Keys.Where(k => !known.Contains(k)))
        {
            throw new ArgumentException($"Unknown option --{k}.");
        }

        var o = new ChaosOptions
        {
            Backend = backend,
            Nodes = Int("nodes", 5),
            Tasks = Int("tasks", 200),
            Duration = Int("duration", 600),
            KillEvery = Int("kill-every", 15),
            ReplaceAfter = Int("replace-after", 0),
            ClockSkewMs = Int("clock-skew-ms", 0),
            RestartRegistryAt = v.ContainsKey("restart-registry-at") ? Int("restart-registry-at", 0) : null,
            Settle = Int("settle", 3),
            Seed = Int("seed", Environment.TickCount),
            Out = v.GetValueOrDefault("out"),
            Schedules = HostArgs.ParseSchedules(v.GetValueOrDefault("schedules", DefaultSchedules)),
        };
        o = o with
        {
            History = v.GetValueOrDefault("history") ?? Path.Combine(o.Out is { } outPath ? Path.GetDirectoryName(Path.GetFullPath(outPath))! : ".", "chaos-history.md"),
        };
        if (o.Nodes < 1 || o.Tasks < 1 || o.Tasks > 10_000 || o.Duration < 10 || o.KillEvery < 0 || o.ReplaceAfter < 0 || o.ClockSkewMs < 0)
        {
            throw new ArgumentException("Out of range: nodes ≥ 1, 1 ≤ tasks ≤ 10000, duration ≥ 10, kill-every ≥ 0, replace-after ≥ 0, clock-skew-ms ≥ 0.");
        }

        if (o.RestartRegistryAt is not null && o.Backend == "consul-emulator")
        {
            throw new ArgumentException("--restart-registry-at: the Consul emulator keeps its state in memory, so a restart would lose every key; "
                + "restart tests need a real Consul agent.");
        }

        return o;
    }
}
