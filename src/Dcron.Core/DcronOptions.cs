using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace DistributedCron;

/// <summary>
/// Settings of one <see cref="Dcron"/> node, set in the constructor's <c>configure</c> callback and validated there:
/// a bad value throws <see cref="ArgumentException"/> or <see cref="ArgumentOutOfRangeException"/> naming the option.
/// Every node of a cluster should use the same <see cref="Strategy"/>, <see cref="TimeZone"/> and misfire settings.
/// </summary>
public sealed class DcronOptions
{
    /// <summary>The built-in assignment strategy (default <see cref="AssignerStrategy.Consistent"/>). Ignored when <see cref="Assigner"/> is set.</summary>
    public AssignerStrategy Strategy { get; set; } = AssignerStrategy.Consistent;

    /// <summary>A custom assigner; takes precedence over <see cref="Strategy"/>. Every node must use the same one.</summary>
    public IAssigner? Assigner { get; set; }

    /// <summary>
    /// The node's id (1–200 characters of <c>[A-Za-z0-9._:@-]</c>, starting with a letter or digit). Default:
    /// <c>&lt;ip&gt;-&lt;unix nanoseconds&gt;-&lt;4 random digits&gt;</c>, unique per instance.
    /// </summary>
    public string? NodeId { get; set; }

    /// <summary>The IP recorded in the node record. Default: the first non-loopback IPv4 address, else 127.0.0.1.</summary>
    public string? NodeIp { get; set; }

    /// <summary>The node's weight for <see cref="AssignerStrategy.Weighted"/> (default 1; at least 1).</summary>
    public int Weight { get; set; } = 1;

    /// <summary>How often the node heart-beats and re-reads the membership (default 1 s).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the registry keeps a node without a heartbeat (default 5 s; must exceed <see cref="HeartbeatInterval"/>).
    /// A dead node's tasks move after about this long. A node that could not heart-beat for this long considers itself
    /// expired and stops claiming until a heartbeat succeeds again.
    /// </summary>
    public TimeSpan NodeTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The zone cron expressions are evaluated in, unless a task has a <c>CRON_TZ=</c> prefix (default UTC, never the machine's zone).</summary>
    public TimeZoneInfo TimeZone { get; set; } = TimeZoneInfo.Utc;

    /// <summary>What to do with missed occurrences found by the catch-up (default <see cref="DistributedCron.MisfirePolicy.FireOnce"/>).</summary>
    public MisfirePolicy MisfirePolicy { get; set; } = MisfirePolicy.FireOnce;

    /// <summary>
    /// How late an occurrence may still start (default 1 min; at least 1 s). Older missed occurrences are counted as
    /// missed, and a claim that keeps failing on registry errors is retried until this runs out. To run no missed
    /// occurrence at all, use <see cref="MisfirePolicy.Skip"/>.
    /// </summary>
    public TimeSpan MisfireGrace { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often the node re-reads the task list and sweeps the fire states of its tasks for missed occurrences
    /// (default 5 s). Catch-up also runs at once whenever the node gains a task.
    /// </summary>
    public TimeSpan CatchUpInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest dynamic task payload in UTF-8 bytes (default 64 KiB; 1 B to 16 MiB).</summary>
    public int MaxPayloadBytes { get; set; } = DcronLimits.MaxPayloadBytes;

    /// <summary>Runs dynamic tasks (those stored in the registry). Without it a dynamic task's fire fails with a clear error.</summary>
    public Func<TaskMeta, TaskContext, Task>? DynamicTaskHandler { get; set; }

    /// <summary>The <see cref="TaskOptions"/> of dynamic tasks (their metadata carries none).</summary>
    public TaskOptions DynamicTaskOptions { get; set; } = TaskOptions.Default;

    /// <summary>Called for every handler error and every failure to record an outcome or apply a post-run action (also logged). Exceptions it throws are logged.</summary>
    public Action<TaskErrorContext>? ErrorHandler { get; set; }

    /// <summary>Where logs go (default: nowhere).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The node's clock and timers (default <see cref="TimeProvider.System"/>). Use a fake one in tests, or an <see cref="OffsetTimeProvider"/> to model skew.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How long <see cref="Dcron.StopAsync"/> lets running handlers finish before cancelling them (default 30 s).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks every option; throws naming the first bad one.</summary>
    internal void Validate()
    {
        if (Assigner is null && !Enum.IsDefined(Strategy))
        {
            throw new ArgumentOutOfRangeException(nameof(Strategy), Strategy, "Unknown assigner strategy.");
        }

        if (NodeId is not null && !DcronLimits.IsValidTaskName(NodeId))
        {
            throw new ArgumentException(
                $"Illegal NodeId '{NodeId}': use 1–{DcronLimits.MaxTaskNameLength} characters of [A-Za-z0-9._:@-], starting with a letter or digit.",
                nameof(NodeId));
        }

        if (NodeIp is not null && (NodeIp.Length == 0 || NodeIp.Length > 100 || NodeIp.Any(char.IsWhiteSpace)))
        {
            throw new ArgumentException($"Illegal NodeIp '{NodeIp}'.", nameof(NodeIp));
        }

        if (Weight < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Weight), Weight, "Weight must be at least 1.");
        }

        RequireRange(nameof(HeartbeatInterval), HeartbeatInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        RequireRange(nameof(NodeTtl), NodeTtl, TimeSpan.FromMilliseconds(20), TimeSpan.FromDays(1));
        if (NodeTtl <= HeartbeatInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(NodeTtl), NodeTtl, $"NodeTtl must exceed HeartbeatInterval ({HeartbeatInterval}).");
        }

        if (TimeZone is null)
        {
            throw new ArgumentNullException(nameof(TimeZone), "TimeZone must not be null (use TimeZoneInfo.Utc).");
        }

        if (!Enum.IsDefined(MisfirePolicy))
        {
            throw new ArgumentOutOfRangeException(nameof(MisfirePolicy), MisfirePolicy, "Unknown misfire policy.");
        }

        RequireRange(nameof(MisfireGrace), MisfireGrace, TimeSpan.FromSeconds(1), TimeSpan.FromDays(366));
        RequireRange(nameof(CatchUpInterval), CatchUpInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromDays(1));
        if (MaxPayloadBytes is < 1 or > 16 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadBytes), MaxPayloadBytes, "MaxPayloadBytes must be between 1 and 16 MiB.");
        }

        if (DynamicTaskOptions is null)
        {
            throw new ArgumentNullException(nameof(DynamicTaskOptions), "DynamicTaskOptions must not be null (use TaskOptions.Default).");
        }

        DynamicTaskOptions.Validate("(dynamic tasks)");
        if (TimeProvider is null)
        {
            throw new ArgumentNullException(nameof(TimeProvider), "TimeProvider must not be null (use TimeProvider.System).");
        }

        RequireRange(nameof(ShutdownTimeout), ShutdownTimeout, TimeSpan.Zero, TimeSpan.FromHours(1));
    }

    private static void RequireRange(string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}.");
        }
    }

    /// <summary>The first non-loopback IPv4 address of this machine, or 127.0.0.1.</summary>
    internal static string DetectIp()
    {
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (var a in nic.GetIPProperties().UnicastAddresses)
                {
                    if (a.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a.Address))
                    {
                        return a.Address.ToString();
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // The interface list is unavailable (sandboxes); the documented fallback applies.
        }

        return "127.0.0.1";
    }

    /// <summary>A fresh node id in the Go library's format.</summary>
    internal static string NewNodeId(string ip)
    {
        var unixNanos = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        return $"{ip}-{unixNanos}-{Random.Shared.Next(0, 1000):D4}";
    }
}
