using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DistributedCron.Registry.Consul.Client;

/// <summary>
/// Builds the <see cref="SocketsHttpHandler"/> behind the client: connect timeout, TCP keep-alive (so a blocking query
/// to an agent that vanished breaks instead of hanging until its wait ends), and TLS with a private CA, a client
/// certificate, a server-name override and (only when asked) no verification.
/// </summary>
internal static class ConsulHttpHandlerFactory
{
    public static SocketsHttpHandler Create(ConsulRegistryOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectCallback = ConnectAsync,
        };

        var caCerts = LoadCaCertificates(options);
        var clientCert = LoadClientCertificate(options);
        if (caCerts is null && clientCert is null && options.ServerName is null && !options.InsecureSkipVerify)
        {
            return handler;
        }

        var ssl = new SslClientAuthenticationOptions();
        if (clientCert is not null)
        {
            ssl.ClientCertificates = new X509CertificateCollection { clientCert };
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCert;
        }

        if (options.InsecureSkipVerify)
        {
            ssl.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        else if (caCerts is not null || options.ServerName is not null)
        {
            var serverName = options.ServerName;
            ssl.RemoteCertificateValidationCallback = (sender, cert, _, errors) => ValidateServerCertificate(sender, cert, errors, caCerts, serverName);
        }

        handler.SslOptions = ssl;
        return handler;
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 10);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 3);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
            await socket.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static X509Certificate2Collection? LoadCaCertificates(ConsulRegistryOptions options)
    {
        if (options.CaCertificatePath is null && options.CaCertificates is null)
        {
            return null;
        }

        var all = new X509Certificate2Collection();
        if (options.CaCertificates is not null)
        {
            all.AddRange(options.CaCertificates);
        }

        if (options.CaCertificatePath is not null)
        {
            try
            {
                all.ImportFromPemFile(options.CaCertificatePath);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException)
            {
                throw new ArgumentException($"CaCertificatePath '{options.CaCertificatePath}' is not a readable PEM certificate: {ex.Message}", nameof(options), ex);
            }
        }

        return all.Count > 0 ? all : throw new ArgumentException($"CaCertificatePath '{options.CaCertificatePath}' holds no certificate.", nameof(options));
    }

    private static X509Certificate2? LoadClientCertificate(ConsulRegistryOptions options)
    {
        if (options.ClientCertificate is not null || options.ClientCertificatePath is null)
        {
            return options.ClientCertificate;
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(options.ClientCertificatePath, options.ClientKeyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException)
        {
            throw new ArgumentException(
                $"ClientCertificatePath '{options.ClientCertificatePath}' with ClientKeyPath '{options.ClientKeyPath}' is not a usable PEM certificate and key: {ex.Message}",
                nameof(options), ex);
        }
    }

    private static bool ValidateServerCertificate(object sender, X509Certificate? certificate, SslPolicyErrors errors,
        X509Certificate2Collection? caCerts, string? serverName)
    {
        if (certificate is null)
        {
            return false;
        }

        var cert = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        bool chainOk;
        if (caCerts is null)
        {
            chainOk = (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        }
        else
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(caCerts);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chainOk = chain.Build(cert);
        }

        if (!chainOk)
        {
            return false;
        }

        var expected = serverName ?? (sender as SslStream)?.TargetHostName;
        return string.IsNullOrEmpty(expected)
            ? (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
            : cert.MatchesHostname(expected, allowWildcards: true, allowCommonName: false);
    }
}
