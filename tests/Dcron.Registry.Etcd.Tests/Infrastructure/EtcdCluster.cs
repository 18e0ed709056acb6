using System.Net.Http;
using System.Security.Cryptography.X509Certificates;
using DistributedCron.Testing;

namespace DistributedCron.Registry.Etcd.Tests.Infrastructure;

/// <summary>Certificates for a TLS etcd (made by <see cref="TestCertificates"/>).</summary>
/// <param name="CaCert">The CA certificate (PEM).</param>
/// <param name="ServerCert">The server certificate (PEM), valid for 127.0.0.1 and localhost.</param>
/// <param name="ServerKey">Its key.</param>
/// <param name="ClientCert">A client certificate signed by the CA.</param>
/// <param name="ClientKey">Its key.</param>
/// <param name="RequireClientCert">Start etcd with <c>--client-cert-auth</c>.</param>
public sealed record EtcdTls(string CaCert, string ServerCert, string ServerKey, string ClientCert, string ClientKey, bool RequireClientCert);

/// <summary>
/// One or more etcd members started by a test on 127.0.0.1 (client and peer ports from <see cref="FreePort"/>, data
/// in a fresh directory under /dev/shm so fsync costs nothing), stopped and deleted on dispose.
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    private readonly string _root;

    private EtcdCluster(string root, IReadOnlyList<EtcdMember> members)
    {
        _root = root;
        Members = members;
    }

    /// <summary>The members, in the order of <see cref="Endpoints"/>.</summary>
    public IReadOnlyList<EtcdMember> Members { get; }

    /// <summary>The client URLs of all members.</summary>
    public IReadOnlyList<string> Endpoints => Members.Select(m => m.ClientUrl).ToArray();

    /// <summary>Starts <paramref name="size"/> members forming one cluster and waits until each reports a leader.</summary>
    public static async Task<EtcdCluster> StartAsync(int size = 1, EtcdTls? tls = null, CancellationToken ct = default, params string[] extraArgs)
    {
        var root = Directory.CreateDirectory(Path.Combine(ShmOrTemp(), $"dcron-etcd-{Guid.NewGuid():N}"[..30])).FullName;
        var token = "dcron-" + Guid.NewGuid().ToString("N")[..8];
        var defs = Enumerable.Range(0, size).Select(i => (Name: $"m{i}", Client: FreePort.Next(), Peer: FreePort.Next())).ToArray();
        var initialCluster = string.Join(",", defs.Select(d => $"{d.Name}=http://127.0.0.1:{d.Peer}"));
        var members = defs.Select(d => new EtcdMember(d.Name, d.Client, d.Peer, initialCluster, token, Path.Combine(root, d.Name), tls, extraArgs)).ToArray();
        var cluster = new EtcdCluster(root, members);
        try
        {
            // A member of a multi-member cluster is ready only once a quorum runs: start them together.
            await Task.WhenAll(members.Select(m => m.Server.StartAsync(ct))).ConfigureAwait(false);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    /// <summary>Registry options for this cluster (all endpoints) in <paramref name="namespace"/>.</summary>
    public EtcdRegistryOptions Options(string @namespace, TimeSpan? requestTimeout = null)
    {
        var o = new EtcdRegistryOptions
        {
            Endpoints = Endpoints.ToList(),
            Namespace = @namespace,
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5),
            DialTimeout = TimeSpan.FromSeconds(1),
        };
        return o;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var m in Members)
        {
            await m.Server.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // a member still exiting: the directory is left for the OS
        }
    }

    private static string ShmOrTemp() => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
}

/// <summary>One etcd process.</summary>
public sealed class EtcdMember
{
    internal EtcdMember(string name, int clientPort, int peerPort, string initialCluster, string token, string workDir, EtcdTls? tls, string[] extraArgs)
    {
        Name = name;
        var scheme = tls is null ? "http" : "https";
        ClientUrl = $"{scheme}://127.0.0.1:{clientPort}";
        var args = new List<string>
        {
            "--name", name,
            "--data-dir", Path.Combine(workDir, "data"),
            "--listen-client-urls", ClientUrl,
            "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", initialCluster,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", token,
            "--logger", "zap",
            // etcd writes its log itself: lines streamed through stderr can reach ExternalServer's log writer after its
            // Exited handler closed it, which crashes the test host.
            "--log-outputs", Path.Combine(workDir, "etcd.log"),
        };
        if (tls is not null)
        {
            args.AddRange(["--cert-file", tls.ServerCert, "--key-file", tls.ServerKey]);
            if (tls.RequireClientCert)
            {
                args.AddRange(["--client-cert-auth", "--trusted-ca-file", tls.CaCert]);
            }
        }

        args.AddRange(extraArgs);
        var probe = CreateProbeClient(tls);
        Server = new ExternalServer("etcd-" + name, "etcd", args, async ct =>
        {
            using var response = await probe.GetAsync(ClientUrl + "/health", ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return body.Contains("\"health\":\"true\"", StringComparison.Ordinal);
        }, workDir);
    }

    /// <summary>The member's name (m0, m1, …).</summary>
    public string Name { get; }

    /// <summary>Its client URL.</summary>
    public string ClientUrl { get; }

    /// <summary>Its process.</summary>
    public ExternalServer Server { get; }

    /// <summary>etcd's own log file.</summary>
    public string LogPath => Path.Combine(Server.WorkDir, "etcd.log");

    private static HttpClient CreateProbeClient(EtcdTls? tls)
    {
        var handler = new HttpClientHandler();
        if (tls is not null)
        {
            handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator; // probe only
            handler.ClientCertificates.Add(X509Certificate2.CreateFromPemFile(tls.ClientCert, tls.ClientKey));
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
    }
}
