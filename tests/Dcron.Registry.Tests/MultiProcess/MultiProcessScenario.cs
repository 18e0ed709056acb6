namespace DistributedCron.Testing.MultiProcess;

/// <summary>
/// A multi-process run: <see cref="Nodes"/> test hosts form one cluster on a real server, each registering
/// <see cref="Tasks"/> every-second tasks; <see cref="KillAfter"/> after all are ready the node that owns the most
/// tasks is killed with SIGKILL (in the middle of a second, when no fire is in flight); after
/// <see cref="RunFor"/> the survivors are stopped. A backend's test needs only <see cref="Backend"/> and
/// <see cref="Connect"/> (plus <see cref="ExtraArgs"/> for credentials).
/// </summary>
public sealed record MultiProcessScenario
{
    /// <summary>--backend of the host (redis, etcd, zookeeper, consul).</summary>
    public required string Backend { get; init; }

    /// <summary>--connect of the host.</summary>
    public required string Connect { get; init; }

    /// <summary>The cluster's namespace (fresh by default).</summary>
    public string Namespace { get; init; } = "mp-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>How many processes (default 3).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>How many every-second tasks (default 12).</summary>
    public int Tasks { get; init; } = 12;

    /// <summary>How long the cluster runs after all hosts are ready (default 34 s: with the settle time, a measured window of about 31 s).</summary>
    public TimeSpan RunFor { get; init; } = TimeSpan.FromSeconds(34);

    /// <summary>When the victim is killed, after all hosts are ready (default 12 s).</summary>
    public TimeSpan KillAfter { get; init; } = TimeSpan.FromSeconds(12);

    /// <summary>How long after all hosts are ready the measured window starts (default 2 s, so the view has settled).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>--heartbeat-ms (default: the engine's).</summary>
    public TimeSpan? Heartbeat { get; init; }

    /// <summary>--ttl-ms (default: the engine's).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>--catch-up-ms (default: the engine's).</summary>
    public TimeSpan? CatchUpInterval { get; init; }

    /// <summary>--clock-offset-ms per node index (missing entries: no offset), to model clock skew.</summary>
    public IReadOnlyList<TimeSpan> ClockOffsets { get; init; } = [];

    /// <summary>More host arguments for every node (e.g. <c>--option password=…</c>).</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>The host's dll (default: Dcron.TestHost.dll next to the test assembly).</summary>
    public string HostDll { get; init; } = Path.Combine(AppContext.BaseDirectory, "Dcron.TestHost.dll");

    /// <summary>How long a host may take to become ready (default 60 s).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a survivor may take to stop (default 30 s, then SIGKILL).</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>False to run without killing anyone (a baseline).</summary>
    public bool Kill { get; init; } = true;
}
