using System.Security.Cryptography.X509Certificates;

namespace DistributedCron.Registry.Etcd;

/// <summary>
/// Settings of an <see cref="EtcdRegistry"/>: where the etcd members are, how to authenticate, TLS, the namespace and
/// the timeouts. The registry talks to etcd's v3 HTTP/JSON gateway (<c>/v3/...</c>, served by etcd 3.4+ on its client
/// port), so no gRPC stack is needed.
/// </summary>
public sealed class EtcdRegistryOptions
{
    /// <summary>The default namespace.</summary>
    public const string DefaultNamespace = "dcron";

    /// <summary>
    /// The client URLs of the etcd members, for example <c>http://10.0.0.1:2379</c> or <c>https://etcd-a:2379</c>
    /// (default <c>http://127.0.0.1:2379</c>). All must use the same scheme. A request that fails on one member
    /// (connection refused or reset, no answer within its share of <see cref="RequestTimeout"/>, HTTP 5xx,
    /// "no leader", "leader changed") moves on to the next; the member that answered is used for later requests.
    /// </summary>
    public IList<string> Endpoints { get; set; } = new List<string> { "http://127.0.0.1:2379" };

    /// <summary>
    /// The etcd user (null: no authentication). With a user set, the registry calls <c>/v3/auth/authenticate</c> on
    /// each member it uses and sends the token in the <c>Authorization</c> header; an expired or invalidated token is
    /// renewed once per request. Wrong credentials fail with <see cref="RegistryAuthenticationException"/> at the
    /// first request, not with a timeout. The user needs a role with read-write permission on the key prefix
    /// <c>/{Namespace}/</c> (range end <c>/{Namespace}0</c>); a missing permission also fails with
    /// <see cref="RegistryAuthenticationException"/>.
    /// </summary>
    public string? Username { get; set; }

    /// <summary>The password of <see cref="Username"/>.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// The namespace every key lives under: keys are <c>/{Namespace}/nodes/…</c>, <c>/{Namespace}/tasks/…</c> and
    /// <c>/{Namespace}/fires/…</c>, so clusters sharing an etcd never see each other. 1–100 characters of
    /// <c>[A-Za-z0-9._:@-]</c> (no <c>/</c>: one namespace must never be a key prefix of another). Default <c>dcron</c>.
    /// </summary>
    public string Namespace { get; set; } = DefaultNamespace;

    /// <summary>
    /// How long one registry call may take, failover to other members and retries during a leader election
    /// included, before it fails with <see cref="RegistryUnavailableException"/> naming every endpoint tried and why
    /// (default 5 s). With several endpoints one member gets at most half of it, so a member that accepts
    /// connections but does not answer leaves time for another. After a timeout the outcome of a write is unknown;
    /// claims carry a unique id, so a claim whose first attempt was applied is recognised when it is retried.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long opening a TCP (and TLS) connection to one member may take (default 2 s); a member that does not
    /// accept within it counts as failed and the next one is tried. At most <see cref="RequestTimeout"/>.
    /// </summary>
    public TimeSpan DialTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest pause between a broken watch stream's reconnection attempts (default 2 s; the first retry is
    /// immediate on another member, then the delay doubles from 100 ms up to this). A watch never ends because etcd
    /// is unreachable: it resumes from the revision after the last event it delivered, so no change is lost; if
    /// that revision was compacted meanwhile it re-reads the keys and emits a fresh <c>Snapshot</c>.
    /// </summary>
    public TimeSpan WatchMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A PEM file of the certificate authority (or bundle) that signed the members' server certificates. With it,
    /// server certificates are validated against these CAs only (not the machine's trust store). Requires https
    /// endpoints.
    /// </summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>The same as <see cref="CaCertificatePath"/>, as loaded certificates (both may be given; they are combined).</summary>
    public X509Certificate2Collection? CaCertificates { get; set; }

    /// <summary>A PEM client certificate presented to members started with <c>--client-cert-auth</c>; needs <see cref="ClientKeyPath"/>.</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="ClientCertificatePath"/>.</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>A client certificate with its private key (instead of <see cref="ClientCertificatePath"/>).</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// The name the server certificates must carry (DNS or IP subject alternative name), when it differs from the
    /// endpoint's host, for example when members are addressed by IP but certified by name. Null: the endpoint's host.
    /// </summary>
    public string? ServerName { get; set; }

    /// <summary>The largest task payload accepted, in UTF-8 bytes (default 64 KiB; etcd's own request limit is 1.5 MiB).</summary>
    public int MaxPayloadBytes { get; set; } = DcronLimits.MaxPayloadBytes;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!IsValidNamespace(Namespace))
        {
            throw new ArgumentException(
                $"Invalid etcd namespace '{Namespace}': use 1–100 characters of [A-Za-z0-9._:@-] (no '/').", nameof(Namespace));
        }

        if (Endpoints is null || Endpoints.Count == 0)
        {
            throw new ArgumentException("At least one etcd endpoint is required, for example http://127.0.0.1:2379.", nameof(Endpoints));
        }

        string? scheme = null;
        foreach (var e in Endpoints)
        {
            if (!Uri.TryCreate(e, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || (uri.AbsolutePath != "/" && uri.AbsolutePath.Length > 0) || !string.IsNullOrEmpty(uri.Query))
            {
                throw new ArgumentException($"Invalid etcd endpoint '{e}': use http://host:port or https://host:port.", nameof(Endpoints));
            }

            if (scheme is not null && scheme != uri.Scheme)
            {
                throw new ArgumentException($"Etcd endpoint '{e}' uses {uri.Scheme} but an earlier one uses {scheme}; use one scheme for all.", nameof(Endpoints));
            }

            scheme = uri.Scheme;
        }

        if (string.IsNullOrEmpty(Username) != (Password is null))
        {
            if (string.IsNullOrEmpty(Username))
            {
                throw new ArgumentException("A Password was given without a Username.", nameof(Username));
            }

            throw new ArgumentException($"Username '{Username}' was given without a Password.", nameof(Password));
        }

        RequireRange(RequestTimeout, nameof(RequestTimeout), TimeSpan.FromMilliseconds(100));
        RequireRange(DialTimeout, nameof(DialTimeout), TimeSpan.FromMilliseconds(10));
        if (DialTimeout > RequestTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(DialTimeout), DialTimeout, $"DialTimeout must not exceed RequestTimeout ({RequestTimeout}).");
        }

        RequireRange(WatchMaxRetryDelay, nameof(WatchMaxRetryDelay), TimeSpan.FromMilliseconds(10));
        var tls = CaCertificatePath is not null || CaCertificates is not null || ClientCertificatePath is not null
            || ClientKeyPath is not null || ClientCertificate is not null || ServerName is not null;
        if (tls && scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("TLS settings (CA, client certificate, ServerName) need https:// endpoints.", nameof(Endpoints));
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

    internal EtcdRegistryOptions Clone()
    {
        var c = (EtcdRegistryOptions)MemberwiseClone();
        c.Endpoints = Endpoints.ToList();
        return c;
    }

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

    private static void RequireRange(TimeSpan value, string name, TimeSpan min)
    {
        if (value < min || value > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and one day.");
        }
    }
}
