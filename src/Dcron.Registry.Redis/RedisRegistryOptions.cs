namespace DistributedCron.Registry.Redis;

/// <summary>
/// Settings of a <see cref="RedisRegistry"/>. The connection itself (endpoints, password, TLS, timeouts of the
/// socket) is configured on the <c>StackExchange.Redis</c> multiplexer handed to the registry; see
/// <c>docs/registry-redis.md</c>.
/// </summary>
public sealed class RedisRegistryOptions
{
    /// <summary>The default namespace.</summary>
    public const string DefaultNamespace = "dcron";

    /// <summary>
    /// The namespace every key and channel lives under, as the Redis hash tag <c>{namespace}:</c>, so all keys of
    /// one cluster land in one slot of a Redis Cluster and clusters sharing a server never see each other.
    /// 1–100 characters of <c>[A-Za-z0-9._:@-]</c>. Default <c>dcron</c>.
    /// </summary>
    public string Namespace { get; set; } = DefaultNamespace;

    /// <summary>The Redis database index; -1 (default) uses the multiplexer's default database.</summary>
    public int Database { get; set; } = -1;

    /// <summary>
    /// How long one registry call may take before it fails with <see cref="RegistryUnavailableException"/>
    /// (default 5 s). The call's outcome on the server is then unknown: a claim that timed out may have been granted,
    /// which is safe because a granted claim that nobody runs is only a missed fire, never a duplicate.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an open watch reaps expired nodes on the server (so an expiry becomes a <c>Removed</c> event)
    /// and checks the server's change counter against the events it received, emitting a fresh <c>Snapshot</c>
    /// when a change notification was lost (default 1 s). Expiry events therefore arrive within the node TTL plus
    /// this interval.
    /// </summary>
    public TimeSpan WatchPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest pause between a watch's attempts to re-read the server while it is unreachable (default 2 s;
    /// the first retry comes after 100 ms and the delay doubles up to this). A watch never ends because the server
    /// is down: it keeps retrying and emits a <c>Snapshot</c> once it reads the server again.
    /// </summary>
    public TimeSpan WatchMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The largest task payload accepted, in UTF-8 bytes (default 64 KiB).</summary>
    public int MaxPayloadBytes { get; set; } = DcronLimits.MaxPayloadBytes;

    /// <summary>
    /// When true, <see cref="RedisRegistry.DisposeAsync"/> also closes the multiplexer. Default false: the caller
    /// owns the multiplexer (it is usually shared by the whole application).
    /// </summary>
    public bool DisposeMultiplexer { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!IsValidNamespace(Namespace))
        {
            throw new ArgumentException(
                $"Invalid Redis namespace '{Namespace}': use 1–100 characters of [A-Za-z0-9._:@-] (braces are not allowed: the namespace is the key hash tag).",
                nameof(Namespace));
        }

        if (Database < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(Database), Database, "Database must be -1 (the multiplexer's default) or a database index ≥ 0.");
        }

        RequirePositive(OperationTimeout, nameof(OperationTimeout));
        RequirePositive(WatchPollInterval, nameof(WatchPollInterval));
        RequirePositive(WatchMaxRetryDelay, nameof(WatchMaxRetryDelay));
        if (MaxPayloadBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadBytes), MaxPayloadBytes, "MaxPayloadBytes must be positive.");
        }
    }

    internal RedisRegistryOptions Clone() => (RedisRegistryOptions)MemberwiseClone();

    private static bool IsValidNamespace(string? ns)
    {
        if (string.IsNullOrEmpty(ns) || ns.Length > 100)
        {
            return false;
        }

        foreach (var c in ns)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or ':' or '@' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and at most one day.");
        }
    }
}
