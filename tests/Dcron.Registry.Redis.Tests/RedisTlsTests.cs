using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;
using Xunit;

namespace DistributedCron.Registry.Redis.Tests;

/// <summary>
/// TLS: redis-server with a certificate from a test CA made with openssl, the client with <c>ssl=true</c>,
/// <c>sslHost</c> and a validation callback that trusts only that CA. Also a password over TLS.
/// </summary>
public sealed class RedisTlsTests : IAsyncLifetime
{
    private const string Password = "tls-password";
    private string _certDir = null!;
    private RedisServer _server = null!;
    private X509Certificate2 _ca = null!;

    public async Task InitializeAsync()
    {
        _certDir = Directory.CreateTempSubdirectory("dcron-redis-tls-").FullName;
        await MakeCertificatesAsync(_certDir);
        _ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_certDir, "ca.crt"));
        _server = await RedisServer.StartAsync("tls", password: Password, tls: (_, port) => (
            ["--tls-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--tls-cert-file", Path.Combine(_certDir, "server.crt"), "--tls-key-file", Path.Combine(_certDir, "server.key"),
             "--tls-ca-cert-file", Path.Combine(_certDir, "ca.crt"), "--tls-auth-clients", "no"],
            c => TlsPingAsync(port, c)));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_certDir, recursive: true);
    }

    [Fact]
    public async Task A_registry_works_over_TLS_with_a_validated_server_certificate()
    {
        var o = TlsOptions("localhost");
        await using var r = new RedisRegistry(await ConnectionMultiplexer.ConnectAsync(o), new RedisRegistryOptions { Namespace = "tls", DisposeMultiplexer = true });
        await r.RegisterNodeAsync(new Node { Id = "n1" }, TimeSpan.FromSeconds(30));
        Assert.Equal("n1", Assert.Single(await r.GetNodesAsync()).Id);
        Assert.True((await r.CanRunTaskAsync("t", DateTimeOffset.UtcNow, "n1")).Granted);
    }

    [Fact]
    public async Task A_certificate_for_another_host_is_refused_with_a_clear_error_not_a_timeout()
    {
        var o = TlsOptions("not-the-server.example");
        await using var r = new RedisRegistry(await ConnectionMultiplexer.ConnectAsync(o),
            new RedisRegistryOptions { Namespace = "tls", OperationTimeout = TimeSpan.FromSeconds(30), DisposeMultiplexer = true });
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => r.GetNodesAsync());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "the refusal must not wait for the operation timeout");
        Assert.Contains(_server.Endpoint, ex.Message, StringComparison.Ordinal);
        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
    }

    private ConfigurationOptions TlsOptions(string sslHost)
    {
        var o = RedisServer.ClientOptions(_server.Endpoint, Password, TimeSpan.FromSeconds(3));
        o.Ssl = true;
        o.SslHost = sslHost;
        o.CertificateValidation += (_, cert, _, errors) => cert is not null && TrustedByTestCa(cert, errors);
        return o;
    }

    // Accept the server certificate only if it chains to the test CA and matches sslHost.
    private bool TrustedByTestCa(X509Certificate cert, SslPolicyErrors errors)
    {
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var c2 = new X509Certificate2(cert);
        return chain.Build(c2);
    }

    private static async Task<bool> TlsPingAsync(int port, CancellationToken ct)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, ct);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true); // readiness probe only
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, ct);
        return await RedisServer.PingAsync(ssl, Password, ct);
    }

    private static async Task MakeCertificatesAsync(string dir)
    {
        await File.WriteAllTextAsync(Path.Combine(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        await OpenSslAsync(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=dcron-test-ca");
        await OpenSslAsync(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        await OpenSslAsync(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
    }

    private static async Task OpenSslAsync(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("openssl") { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("openssl did not start");
        var err = p.StandardError.ReadToEndAsync();
        _ = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"openssl {string.Join(' ', args)} failed: {await err}");
    }
}
