using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DistributedCron.Testing.Consul;
using Xunit;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>
/// HTTPS to the emulator (Kestrel with a certificate from a private CA made here), as Consul's <c>ports.https</c>
/// with <c>tls.https</c>: the CA option, a wrong CA, skip-verify, the server name, and a required client certificate.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dcron-consul-tls-").FullName;
    private X509Certificate2 _ca = null!;
    private X509Certificate2 _otherCa = null!;
    private X509Certificate2 _client = null!;
    private ConsulEmulatorServer _https = null!;
    private string _caPath = null!;
    private string _otherCaPath = null!;

    public async Task InitializeAsync()
    {
        _ca = Authority("dcron test CA");
        _otherCa = Authority("someone else's CA");
        _caPath = WritePem("ca.pem", _ca);
        _otherCaPath = WritePem("other-ca.pem", _otherCa);
        var server = Issue(_ca, "server.dc1.consul", server: true);
        _client = Issue(_ca, "dcron client", server: false);
        _https = await ConsulEmulatorServer.StartAsync(new ConsulEmulatorOptions { ServerCertificate = server, ClientCertificateAuthority = _ca });
    }

    public async Task DisposeAsync()
    {
        await _https.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task With_the_CA_and_a_client_certificate_every_call_works()
    {
        Assert.StartsWith("https://", _https.Address, StringComparison.Ordinal);
        await using var r = Registry(o =>
        {
            o.CaCertificatePath = _caPath;
            o.ClientCertificate = _client;
        });
        await r.PutTaskAsync(new TaskMeta { Name = "secure", CronFormat = "@daily" });
        Assert.Contains("secure", (await r.GetTasksAsync()).Keys);
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(10));
        await r.HeartbeatAsync("n1");
    }

    [Fact]
    public async Task A_server_certificate_from_another_CA_is_an_authentication_error_naming_the_address()
    {
        await using var r = Registry(o =>
        {
            o.CaCertificatePath = _otherCaPath;
            o.ClientCertificate = _client;
        });
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => r.GetTasksAsync());
        Assert.Contains(_https.Address, ex.Message, StringComparison.Ordinal);
        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Skip_verify_accepts_any_server_certificate_and_a_wrong_server_name_is_refused()
    {
        await using (var insecure = Registry(o =>
        {
            o.InsecureSkipVerify = true;
            o.ClientCertificate = _client;
        }))
        {
            Assert.Empty(await insecure.GetNodesAsync());
        }

        await using var named = Registry(o =>
        {
            o.CaCertificatePath = _caPath;
            o.ClientCertificate = _client;
            o.ServerName = "not-the-server.example";
        });
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => named.GetNodesAsync());
    }

    [Fact]
    public async Task Without_the_required_client_certificate_calls_fail_with_a_typed_error()
    {
        await using var r = Registry(o => o.CaCertificatePath = _caPath);
        var ex = await Assert.ThrowsAnyAsync<RegistryException>(() => r.GetTasksAsync());
        Assert.True(ex is RegistryAuthenticationException or RegistryUnavailableException, $"{ex.GetType().Name}: {ex.Message}");
        Assert.Contains(_https.Address, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_settings_need_an_https_address()
    {
        var o = new ConsulRegistryOptions { Address = "http://127.0.0.1:8500", CaCertificatePath = _caPath };
        var ex = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains("https://", ex.Message, StringComparison.Ordinal);
    }

    private ConsulRegistry Registry(Action<ConsulRegistryOptions> tls)
    {
        var o = new ConsulRegistryOptions { Address = _https.Address, Namespace = "tls-" + Guid.NewGuid().ToString("N")[..8], RequestTimeout = TimeSpan.FromSeconds(5) };
        tls(o);
        return new ConsulRegistry(o);
    }

    private string WritePem(string name, X509Certificate2 cert)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, cert.ExportCertificatePem());
        return path;
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string name, bool server)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(name);
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            req.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        using var withKey = cert.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }
}
