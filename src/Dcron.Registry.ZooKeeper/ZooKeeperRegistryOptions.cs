using DistributedCron.Registry.ZooKeeper.Client;

namespace DistributedCron.Registry.ZooKeeper;

/// <summary>
/// Settings of a <see cref="ZooKeeperRegistry"/>. Validated when the registry is constructed
/// (<see cref="ArgumentException"/> naming the setting and its value).
/// </summary>
public sealed class ZooKeeperRegistryOptions
{
    /// <summary>The default namespace.</summary>
    public const string DefaultNamespace = "dcron";

    /// <summary>
    /// The ensemble: <c>host:port[,host:port…][/chroot]</c> (port 2181 when omitted; IPv6 hosts in brackets).
    /// The client connects to one server at a time, starting at a random one, and moves its session to the next
    /// server when the connection is lost. A chroot is a path prefix for every znode of the registry; missing
    /// segments are created with <see cref="Acl"/>. Required.
    /// </summary>
    public string ConnectString { get; set; } = "";

    /// <summary>
    /// The znode under which everything of this cluster lives: <c>[/chroot]/{Namespace}/…</c>, so clusters sharing an
    /// ensemble never see each other. 1–100 characters of <c>[A-Za-z0-9._:@-]</c>, not <c>.</c>, <c>..</c> or
    /// <c>zookeeper</c>. Default <c>dcron</c>.
    /// </summary>
    public string Namespace { get; set; } = DefaultNamespace;

    /// <summary>
    /// The session timeout requested for the registry's main session, which carries reads, watches, task writes and
    /// claims (default 10 s; the server clamps it to its [minSessionTimeout, maxSessionTimeout], by default
    /// [2, 20] × tickTime). The client pings after a third of it without traffic and moves to another server after
    /// two thirds without a reply. Node liveness does not use it: each registered node has its own session whose
    /// timeout is the TTL given to <see cref="ZooKeeperRegistry.RegisterNodeAsync"/>.
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one registry call may take, waiting for a connection included, before it fails with
    /// <see cref="RegistryUnavailableException"/> naming the servers (default 10 s). Reads are retried on another
    /// server within this time; a write whose reply was lost fails at once (its outcome is unknown: a claim may have
    /// been granted, which only ever costs a missed fire, never a duplicate).
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Digest user. When set (with <see cref="Password"/>), every connection authenticates as <c>digest</c>
    /// <c>user:password</c>. ZooKeeper accepts any digest credentials at connect time; a wrong password shows as
    /// <see cref="RegistryAuthenticationException"/> (NOAUTH) on the first znode whose ACL does not grant it.
    /// </summary>
    public string? Username { get; set; }

    /// <summary>Digest password (with <see cref="Username"/>).</summary>
    public string? Password { get; set; }

    /// <summary>
    /// The ACL set on every znode the registry creates (existing znodes keep theirs). Null (default): with
    /// credentials, all permissions for this digest identity only (nobody else may read or change the cluster's
    /// znodes); without, <c>world:anyone</c> with all permissions.
    /// </summary>
    public IReadOnlyList<ZooKeeperAclEntry>? Acl { get; set; }

    /// <summary>The largest task payload accepted, in UTF-8 bytes (default 64 KiB; at most 512 KiB, far below the server's 1 MiB frame limit).</summary>
    public int MaxPayloadBytes { get; set; } = DcronLimits.MaxPayloadBytes;

    /// <summary>
    /// The longest pause between a watch's attempts to re-read the ensemble while it is unreachable (default 2 s; the
    /// first retry comes after 100 ms and the delay doubles up to this). A watch never ends because the ensemble is
    /// down: it keeps retrying and emits a <c>Snapshot</c> once it reads again.
    /// </summary>
    public TimeSpan WatchMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ZkConnectString.Parse(ConnectString, nameof(ConnectString));
        if (!IsValidNamespace(Namespace))
        {
            throw new ArgumentException(
                $"Invalid ZooKeeper namespace '{Namespace}': use 1–100 characters of [A-Za-z0-9._:@-], not '.', '..' or 'zookeeper'.",
                nameof(Namespace));
        }

        RequireRange(SessionTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), nameof(SessionTimeout));
        RequireRange(RequestTimeout, TimeSpan.FromMilliseconds(50), TimeSpan.FromHours(1), nameof(RequestTimeout));
        RequireRange(WatchMaxRetryDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(WatchMaxRetryDelay));
        if (Username is not null || Password is not null)
        {
            if (string.IsNullOrEmpty(Username) || Username.Contains(':') || Password is null)
            {
                throw new ArgumentException(
                    $"Digest credentials need a non-empty Username without ':' and a Password (got user '{Username}', password {(Password is null ? "unset" : "set")}).",
                    nameof(Username));
            }
        }

        if (Acl is not null)
        {
            if (Acl.Count == 0)
            {
                throw new ArgumentException("The ACL must have at least one entry (ZooKeeper rejects an empty ACL).", nameof(Acl));
            }

            foreach (var e in Acl)
            {
                if (e is null || string.IsNullOrEmpty(e.Scheme) || e.Id is null || e.Permissions == ZooKeeperPermissions.None
                    || (e.Permissions & ~ZooKeeperPermissions.All) != 0)
                {
                    throw new ArgumentException($"Invalid ACL entry '{e}': it needs a scheme, an id and permissions within All.", nameof(Acl));
                }
            }
        }

        if (MaxPayloadBytes is <= 0 or > 512 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadBytes), MaxPayloadBytes, "MaxPayloadBytes must be between 1 and 524288.");
        }
    }

    internal ZooKeeperRegistryOptions Clone() => (ZooKeeperRegistryOptions)MemberwiseClone();

    private static bool IsValidNamespace(string? ns)
    {
        if (string.IsNullOrEmpty(ns) || ns.Length > 100 || ns is "." or ".." or "zookeeper")
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

    private static void RequireRange(TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}.");
        }
    }
}
