using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace DistributedCron.Registry.Consul;

/// <summary>
/// Settings of a <see cref="ConsulRegistry"/>: the agent's HTTP address, the ACL token, the datacenter, TLS, the
/// namespace and the timeouts. The registry talks to a Consul agent's HTTP API (<c>/v1/kv</c>, <c>/v1/session</c>,
/// <c>/v1/txn</c>), usually the local client agent.
/// </summary>
public sealed class ConsulRegistryOptions
{
    /// <summary>The default namespace.</summary>
    public const string DefaultNamespace = "dcron";

    /// <summary>Consul's default <c>session_ttl_min</c>: the shortest session TTL a server accepts.</summary>
    public static readonly TimeSpan ConsulMinimumSessionTtl = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The agent's HTTP(S) address, <c>http://host:port</c> or <c>https://host:port</c> (default
    /// <c>http://127.0.0.1:8500</c>). An <c>https</c> address turns TLS on. An agent that refuses the connection or
    /// does not answer within <see cref="RequestTimeout"/> makes the call fail with
    /// <see cref="RegistryUnavailableException"/> naming this address.
    /// </summary>
    public string Address { get; set; } = "http://127.0.0.1:8500";

    /// <summary>
    /// The ACL token, sent as the <c>X-Consul-Token</c> header on every request (null: none, so the agent's default
    /// token or anonymous applies). A token the servers do not know (<c>ACL not found</c>) or one that lacks a
    /// permission (<c>Permission denied</c>) fails the call with <see cref="RegistryAuthenticationException"/>. The
    /// token needs <c>key_prefix "{Namespace}/" { policy = "write" }</c> and <c>session</c> write on the agent's node
    /// (for example <c>session_prefix "" { policy = "write" }</c>).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>The datacenter to use (<c>?dc=</c>; null: the agent's own). An unknown one fails every call.</summary>
    public string? Datacenter { get; set; }

    /// <summary>
    /// The namespace every key lives under: <c>{Namespace}/nodes/…</c>, <c>{Namespace}/tasks/…</c>,
    /// <c>{Namespace}/fires/…</c>, so clusters sharing a Consul datacenter never see each other. 1–100 characters of
    /// <c>[A-Za-z0-9._-]</c>, not starting with '.', without "..". Default <c>dcron</c>.
    /// </summary>
    public string Namespace { get; set; } = DefaultNamespace;

    /// <summary>
    /// How long one HTTP request may take before the call fails with <see cref="RegistryUnavailableException"/>
    /// (default 5 s). A blocking query of a watch may take <see cref="BlockingWait"/> plus Consul's jitter
    /// (1/16 of it) plus this. After a timeout the outcome of a write is unknown; claims carry a unique id, so a
    /// claim whose write was applied before the timeout is still recognised as granted.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long opening a TCP (and TLS) connection may take (default 2 s; at most <see cref="RequestTimeout"/>).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The <c>wait</c> of the blocking queries that feed the watches (default 60 s, between 1 s and Consul's cap of
    /// 10 min). A blocking query returns as soon as the watched prefix changes, or after this wait (plus up to 1/16
    /// of it, Consul's jitter) unchanged; a shorter wait only costs more idle requests.
    /// </summary>
    public TimeSpan BlockingWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The shortest node TTL used for a session (default 10 s, Consul's default <c>session_ttl_min</c>). A TTL given
    /// to <see cref="ConsulRegistry.RegisterNodeAsync"/> below it is raised to it for the session, which Consul reaps
    /// only 2 × that TTL after the last renewal (its timer runs TTL × 2), i.e. up to 20 s with the default. The
    /// session is the backstop: watchers and <see cref="ConsulRegistry.GetNodesAsync"/> already leave a node out once
    /// its key has not changed for the TTL that was asked for (every heartbeat rewrites it). Lower it only if your
    /// servers run with a lower <c>session_ttl_min</c>; Consul refuses a TTL below its minimum.
    /// </summary>
    public TimeSpan MinSessionTtl { get; set; } = ConsulMinimumSessionTtl;

    /// <summary>
    /// The longest pause between a watch's retries after errors (default 2 s; the delay starts at 100 ms and
    /// doubles). A watch never ends because Consul is unreachable: it retries, and once it reads again it emits a
    /// fresh <c>Snapshot</c>.
    /// </summary>
    public TimeSpan WatchMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The clock this registry measures heartbeat silence with (default <see cref="TimeProvider.System"/>): only its
    /// monotonic timestamps are used, to time how long a node key has gone unchanged, never its wall-clock time and
    /// never compared with another machine's. Tests pass a fake one.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A PEM file of the CA (or bundle) that signed the agent's HTTPS certificate (Consul's <c>ca_file</c>). With it, only these CAs are trusted. Requires an https address.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>The same as <see cref="CaCertificatePath"/>, as loaded certificates (both may be given; they are combined).</summary>
    public X509Certificate2Collection? CaCertificates { get; set; }

    /// <summary>A PEM client certificate for agents with <c>verify_incoming</c>; needs <see cref="ClientKeyPath"/>.</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="ClientCertificatePath"/>.</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>A client certificate with its private key (instead of <see cref="ClientCertificatePath"/>).</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>The name the agent's certificate must carry when it differs from the address's host (the CLI's <c>CONSUL_TLS_SERVER_NAME</c>).</summary>
    public string? ServerName { get; set; }

    /// <summary>
    /// Accept any server certificate (default false). Only for tests against self-signed agents: it removes the
    /// protection TLS gives against a man in the middle.
    /// </summary>
    public bool InsecureSkipVerify { get; set; }

    /// <summary>The largest task payload accepted, in UTF-8 bytes (default 64 KiB; Consul's value limit is 512 KB).</summary>
    public int MaxPayloadBytes { get; set; } = DcronLimits.MaxPayloadBytes;

    /// <summary>
    /// Options from the environment variables the Consul CLI reads: <c>CONSUL_HTTP_ADDR</c> (host:port or URL; an
    /// <c>https://</c> scheme or <c>CONSUL_HTTP_SSL=true</c> means TLS), <c>CONSUL_HTTP_TOKEN</c>,
    /// <c>CONSUL_HTTP_TOKEN_FILE</c>, <c>CONSUL_CACERT</c>, <c>CONSUL_CLIENT_CERT</c>, <c>CONSUL_CLIENT_KEY</c>,
    /// <c>CONSUL_TLS_SERVER_NAME</c>, <c>CONSUL_HTTP_SSL_VERIFY=false</c>. Unset variables keep the defaults.
    /// </summary>
    /// <param name="namespace">The namespace to use (default <see cref="DefaultNamespace"/>).</param>
    /// <param name="environment">Reads a variable (default: the process environment; tests pass their own).</param>
    public static ConsulRegistryOptions FromEnvironment(string @namespace = DefaultNamespace, Func<string, string?>? environment = null)
    {
        var env = environment ?? Environment.GetEnvironmentVariable;
        string? Get(string name) => env(name) is { Length: > 0 } v ? v.Trim() : null;
        var o = new ConsulRegistryOptions { Namespace = @namespace };
        var ssl = Get("CONSUL_HTTP_SSL") is { } s && (s == "1" || s.Equals("true", StringComparison.OrdinalIgnoreCase));
        if (Get("CONSUL_HTTP_ADDR") is { } addr)
        {
            o.Address = addr.Contains("://", StringComparison.Ordinal) ? addr : (ssl ? "https://" : "http://") + addr;
        }

        o.Token = Get("CONSUL_HTTP_TOKEN");
        if (o.Token is null && Get("CONSUL_HTTP_TOKEN_FILE") is { } tokenFile)
        {
            o.Token = File.ReadAllText(tokenFile).Trim();
        }

        o.CaCertificatePath = Get("CONSUL_CACERT");
        o.ClientCertificatePath = Get("CONSUL_CLIENT_CERT");
        o.ClientKeyPath = Get("CONSUL_CLIENT_KEY");
        o.ServerName = Get("CONSUL_TLS_SERVER_NAME");
        if (Get("CONSUL_HTTP_SSL_VERIFY") is { } verify && (verify == "0" || verify.Equals("false", StringComparison.OrdinalIgnoreCase)))
        {
            o.InsecureSkipVerify = true;
        }

        return o;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting and its value.</summary>
    public void Validate()
    {
        if (!IsValidNamespace(Namespace))
        {
            throw new ArgumentException(
                $"Invalid Consul namespace '{Namespace}': use 1–100 characters of [A-Za-z0-9._-], not starting with '.' and without '..'.", nameof(Namespace));
        }

        if (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || (uri.AbsolutePath != "/" && uri.AbsolutePath.Length > 0) || !string.IsNullOrEmpty(uri.Query))
        {
            throw new ArgumentException($"Invalid Consul address '{Address}': use http://host:port or https://host:port.", nameof(Address));
        }

        if (Token is not null && (Token.Length == 0 || Token.Any(char.IsControl)))
        {
            throw new ArgumentException("The Consul Token must not be empty or contain control characters (use null for no token).", nameof(Token));
        }

        if (Datacenter is not null && (Datacenter.Length == 0 || !Datacenter.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw new ArgumentException($"Invalid Consul datacenter '{Datacenter}': use [A-Za-z0-9._-] (or null for the agent's own).", nameof(Datacenter));
        }

        RequireRange(RequestTimeout, nameof(RequestTimeout), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        RequireRange(ConnectTimeout, nameof(ConnectTimeout), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        if (ConnectTimeout > RequestTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, $"ConnectTimeout must not exceed RequestTimeout ({RequestTimeout}).");
        }

        RequireRange(BlockingWait, nameof(BlockingWait), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        RequireRange(MinSessionTtl, nameof(MinSessionTtl), TimeSpan.FromSeconds(1), TimeSpan.FromHours(24));
        RequireRange(WatchMaxRetryDelay, nameof(WatchMaxRetryDelay), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        if (TimeProvider is null)
        {
            throw new ArgumentNullException(nameof(TimeProvider), "TimeProvider must not be null (use TimeProvider.System).");
        }

        var tls = CaCertificatePath is not null || CaCertificates is not null || ClientCertificatePath is not null
            || ClientKeyPath is not null || ClientCertificate is not null || ServerName is not null || InsecureSkipVerify;
        if (tls && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"TLS settings (CA, client certificate, ServerName, InsecureSkipVerify) need an https:// address, not '{Address}'.", nameof(Address));
        }

        if ((ClientCertificatePath is null) != (ClientKeyPath is null))
        {
            throw new ArgumentException("ClientCertificatePath and ClientKeyPath must be given together.", nameof(ClientKeyPath));
        }

        if (ClientCertificatePath is not null && ClientCertificate is not null)
        {
            throw new ArgumentException("Give either ClientCertificatePath/ClientKeyPath or ClientCertificate, not both.", nameof(ClientCertificate));
        }

        if (ClientCertificate is { HasPrivateKey: false })
        {
            throw new ArgumentException($"ClientCertificate '{ClientCertificate.Subject}' has no private key.", nameof(ClientCertificate));
        }

        foreach (var (path, name) in new[] { (CaCertificatePath, nameof(CaCertificatePath)), (ClientCertificatePath, nameof(ClientCertificatePath)), (ClientKeyPath, nameof(ClientKeyPath)) })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new ArgumentException($"{name} '{path}' does not exist.", name);
            }
        }

        if (MaxPayloadBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadBytes), MaxPayloadBytes, "MaxPayloadBytes must be positive.");
        }
    }

    /// <summary>A copy, so later changes to the caller's instance have no effect.</summary>
    internal ConsulRegistryOptions Clone() => (ConsulRegistryOptions)MemberwiseClone();

    /// <summary>The address without a trailing slash.</summary>
    internal string BaseAddress => Address.TrimEnd('/');

    /// <summary>A TTL as Consul's duration string, in whole seconds (rounded up).</summary>
    internal static string TtlString(TimeSpan ttl) => ((long)Math.Ceiling(ttl.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";

    private static bool IsValidNamespace(string? ns)
    {
        if (string.IsNullOrEmpty(ns) || ns.Length > 100 || ns[0] == '.' || ns.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        return ns.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
    }

    private static void RequireRange(TimeSpan value, string name, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}.");
        }
    }
}
