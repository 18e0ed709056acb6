using System.Security.Cryptography.X509Certificates;

namespace DistributedCron.Testing.Consul;

/// <summary>Settings of a <see cref="ConsulEmulatorServer"/>; the defaults are Consul's.</summary>
public sealed class ConsulEmulatorOptions
{
    /// <summary>The TCP port on 127.0.0.1 (0: a free one, read it from <see cref="ConsulEmulatorServer.Address"/>).</summary>
    public int Port { get; set; }

    /// <summary>The clock sessions, lock-delays, tombstone reaping and blocking waits run on (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The emulator's datacenter; <c>?dc=</c> naming another one fails with 500 "No path to datacenter".</summary>
    public string Datacenter { get; set; } = "dc1";

    /// <summary>The agent's node name (sessions default to it; another node is "Missing node registration").</summary>
    public string NodeName { get; set; } = "emulator-node";

    /// <summary>Consul's <c>session_ttl_min</c> (default 10 s).</summary>
    public TimeSpan SessionTtlMin { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Consul's <c>SessionTTLMultiplier</c>: an unrenewed TTL session is invalidated this many TTLs after its last
    /// renewal (Consul: 2; tests may use 1 to make expiry exact).
    /// </summary>
    public double SessionTtlMultiplier { get; set; } = 2;

    /// <summary>How long tombstones live before they are reaped (Consul: 15 min); <see cref="ConsulState.ReapTombstones"/> reaps at once.</summary>
    public TimeSpan TombstoneTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The wait of a blocking query without <c>?wait</c> (Consul's <c>default_query_time</c>, 5 min).</summary>
    public TimeSpan DefaultQueryTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest wait (Consul's <c>max_query_time</c>, 10 min).</summary>
    public TimeSpan MaxQueryTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Add Consul's random jitter of up to wait/16 to blocking waits (default true).</summary>
    public bool QueryJitter { get; set; } = true;

    /// <summary>The largest KV value (Consul's <c>kv_max_value_size</c>, 512 KiB).</summary>
    public int KvMaxValueSize { get; set; } = 512 * 1024;

    /// <summary>The most operations in one transaction (128 since Consul 1.14, 64 before).</summary>
    public int TxnMaxOps { get; set; } = 128;

    /// <summary>The first Raft index the emulator hands out (Consul's indexes are never 0 and start well above 1).</summary>
    public ulong InitialIndex { get; set; } = 10;

    /// <summary>Serve HTTPS with this certificate (with its private key) instead of HTTP (Consul's <c>ports.https</c> with <c>tls.https</c>).</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>With HTTPS: require a client certificate issued by this CA (Consul's <c>verify_incoming</c>).</summary>
    public X509Certificate2? ClientCertificateAuthority { get; set; }

    /// <summary>ACL tokens and policies; null (default) runs with ACLs disabled, where every request is allowed.</summary>
    public EmulatorAcl? Acl { get; set; }
}
