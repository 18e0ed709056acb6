namespace DistributedCron.Hosting;

/// <summary>
/// The settings of the hosted Dcron node that can come from configuration: the section <c>Dcron</c> by default
/// (<c>Dcron:NodeTtl</c>, <c>Dcron:HeartbeatInterval</c>, …), then whatever
/// <see cref="DcronBuilder.Configure"/> sets in code. They are validated when the host starts; a bad value fails the
/// start with a message naming its configuration key. Defaults are those of <see cref="DcronOptions"/>.
/// </summary>
/// <remarks>
/// Settings that cannot come from configuration (a custom <see cref="DcronOptions.Assigner"/>, the
/// <see cref="DcronOptions.ErrorHandler"/>, <see cref="DcronOptions.DynamicTaskOptions"/>) are set with
/// <see cref="DcronBuilder.ConfigureNode"/>. The logger factory and the clock always come from the container.
/// Every node of a cluster should use the same <see cref="Strategy"/>, <see cref="TimeZone"/> and misfire settings.
/// </remarks>
public sealed class DcronHostingOptions
{
    /// <summary>The configuration section read by default: <c>Dcron</c>.</summary>
    public const string DefaultSectionName = "Dcron";

    private static readonly DcronOptions Defaults = new();

    /// <summary>The assignment strategy (<c>Consistent</c> by default): <c>Consistent</c>, <c>HashSharding</c>, <c>HashSlot</c>, <c>Range</c>, <c>Weighted</c>, <c>RoundRobin</c> or <c>Leader</c>.</summary>
    public AssignerStrategy Strategy { get; set; } = Defaults.Strategy;

    /// <summary>The node's id; null or empty generates a unique one per start (see <see cref="DcronOptions.NodeId"/>).</summary>
    public string? NodeId { get; set; }

    /// <summary>The IP recorded in the node record; null or empty detects it (see <see cref="DcronOptions.NodeIp"/>).</summary>
    public string? NodeIp { get; set; }

    /// <summary>The node's weight for the <c>Weighted</c> strategy (default 1; at least 1).</summary>
    public int Weight { get; set; } = Defaults.Weight;

    /// <summary>How often the node heart-beats and re-reads the membership (default 1 s; 10 ms to 1 h).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = Defaults.HeartbeatInterval;

    /// <summary>How long the registry keeps a silent node (default 5 s; must exceed <see cref="HeartbeatInterval"/>). A dead node's tasks move after about this long.</summary>
    public TimeSpan NodeTtl { get; set; } = Defaults.NodeTtl;

    /// <summary>
    /// The zone cron expressions are evaluated in, as an IANA id (<c>Europe/Berlin</c>) or a Windows id
    /// (default <c>UTC</c>, never the machine's zone, so every node computes the same instants).
    /// </summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>What to do with missed occurrences (default <c>FireOnce</c>; <c>FireAll</c>, <c>Skip</c>).</summary>
    public MisfirePolicy MisfirePolicy { get; set; } = Defaults.MisfirePolicy;

    /// <summary>How late a missed occurrence may still start (default 1 min; 1 s to 366 days).</summary>
    public TimeSpan MisfireGrace { get; set; } = Defaults.MisfireGrace;

    /// <summary>How often the node sweeps its tasks for missed occurrences (default 5 s; 10 ms to 1 day).</summary>
    public TimeSpan CatchUpInterval { get; set; } = Defaults.CatchUpInterval;

    /// <summary>The largest dynamic task payload in UTF-8 bytes (default 64 KiB; 1 B to 16 MiB).</summary>
    public int MaxPayloadBytes { get; set; } = Defaults.MaxPayloadBytes;

    /// <summary>
    /// How long a stopping node lets running tasks finish before cancelling them (default 30 s; 0 to 1 h). The host's
    /// own shutdown timeout (<c>HostOptions.ShutdownTimeout</c>) bounds it too: when the host's stop token is
    /// cancelled, running tasks are cancelled at once and the node unregisters.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = Defaults.ShutdownTimeout;

    /// <summary>Copies these settings onto the options of the node being created.</summary>
    internal void ApplyTo(DcronOptions options)
    {
        options.Strategy = Strategy;
        options.NodeId = string.IsNullOrWhiteSpace(NodeId) ? null : NodeId;
        options.NodeIp = string.IsNullOrWhiteSpace(NodeIp) ? null : NodeIp;
        options.Weight = Weight;
        options.HeartbeatInterval = HeartbeatInterval;
        options.NodeTtl = NodeTtl;
        options.TimeZone = ResolveTimeZone(TimeZone);
        options.MisfirePolicy = MisfirePolicy;
        options.MisfireGrace = MisfireGrace;
        options.CatchUpInterval = CatchUpInterval;
        options.MaxPayloadBytes = MaxPayloadBytes;
        options.ShutdownTimeout = ShutdownTimeout;
    }

    /// <summary>The zone named by <paramref name="id"/>; null or blank means UTC.</summary>
    /// <exception cref="TimeZoneNotFoundException">No zone of that id is known on this machine.</exception>
    internal static TimeZoneInfo ResolveTimeZone(string? id) =>
        string.IsNullOrWhiteSpace(id) ? TimeZoneInfo.Utc : CronExpression.FindTimeZone(id.Trim());
}
