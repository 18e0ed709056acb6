using System.Diagnostics;
using DistributedCron.Registry.Etcd.Tests.Infrastructure;
using DistributedCron.Testing.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Etcd.Tests;

/// <summary>etcd serving https with a certificate from a throw-away CA (openssl), requiring client certificates.</summary>
public sealed class TlsEtcdFixture : IAsyncLifetime
{
    private string _dir = "";

    public EtcdCluster Cluster { get; private set; } = null!;

    public EtcdTls Tls { get; private set; } = null!;

    public string OtherCa => Path.Combine(_dir, "other-ca.crt");

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("dcron-etcd-tls-").FullName;
        Tls = await TestCertificates.CreateAsync(_dir, requireClientCert: true);
        Cluster = await EtcdCluster.StartAsync(1, Tls);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Options trusting the test CA and presenting the client certificate.</summary>
    public EtcdRegistryOptions Options(string ns)
    {
        var o = Cluster.Options(ns, TimeSpan.FromSeconds(5));
        o.CaCertificatePath = Tls.CaCert;
        o.ClientCertificatePath = Tls.ClientCert;
        o.ClientKeyPath = Tls.ClientKey;
        return o;
    }
}

public sealed class TlsTests(TlsEtcdFixture etcd, ITestOutputHelper output) : IClassFixture<TlsEtcdFixture>
{
    private static readonly DateTimeOffset T0 = new(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [Fact]
    public async Task With_the_CA_and_a_client_certificate_everything_works_over_https()
    {
        Assert.StartsWith("https://", etcd.Cluster.Endpoints[0]);
        await using var r = new EtcdRegistry(etcd.Options("tls-ok"));
        await using var nodes = await NodeWatchFolder.StartAsync(r, TimeSpan.FromSeconds(10), _ct);
        await r.RegisterNodeAsync(new Node { Id = "tls-n1" }, TimeSpan.FromSeconds(5), _ct);
        await r.HeartbeatAsync("tls-n1", _ct);
        Assert.True((await r.CanRunTaskAsync("tls-job", T0, "tls-n1", _ct)).Granted);
        await nodes.WaitUntilAsync(v => v.ContainsKey("tls-n1"), TimeSpan.FromSeconds(10), "a watch over TLS", _ct);
    }

    [Fact]
    public async Task ServerName_checks_the_certificate_against_another_name()
    {
        var o = etcd.Options("tls-name");
        o.ServerName = "localhost"; // in the certificate's SAN
        await using (var ok = new EtcdRegistry(o))
        {
            await ok.GetNodesAsync(_ct);
        }

        o.ServerName = "etcd.wrong.example";
        await using var wrong = new EtcdRegistry(o);
        await FailsFastWithAuthenticationError(() => wrong.GetNodesAsync(_ct), "wrong server name");
    }

    [Fact]
    public async Task A_server_certificate_from_an_untrusted_CA_is_refused_at_once()
    {
        var o = etcd.Options("tls-ca");
        o.CaCertificatePath = etcd.OtherCa;
        await using var other = new EtcdRegistry(o);
        await FailsFastWithAuthenticationError(() => other.GetNodesAsync(_ct), "unrelated CA");

        o.CaCertificatePath = null; // the machine's trust store does not know the test CA either
        await using var system = new EtcdRegistry(o);
        await FailsFastWithAuthenticationError(() => system.GetTasksAsync(_ct), "machine trust store");
    }

    [Fact]
    public async Task Without_the_client_certificate_the_server_refuses_the_connection()
    {
        var o = etcd.Options("tls-nocert");
        o.ClientCertificatePath = null;
        o.ClientKeyPath = null;
        await using var r = new EtcdRegistry(o);
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAnyAsync<RegistryException>(() => r.GetNodesAsync(_ct));
        output.WriteLine($"no client certificate: {ex.GetType().Name} after {sw.Elapsed.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.IsType<RegistryAuthenticationException>(ex);
    }

    private async Task FailsFastWithAuthenticationError(Func<Task> call, string what)
    {
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(call);
        output.WriteLine($"{what}: {sw.Elapsed.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.Contains("TLS", ex.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"{what}: a refused certificate is not a timeout ({sw.Elapsed})");
    }
}
