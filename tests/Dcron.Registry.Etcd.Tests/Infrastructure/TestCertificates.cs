using System.Diagnostics;

namespace DistributedCron.Registry.Etcd.Tests.Infrastructure;

/// <summary>A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl.</summary>
public static class TestCertificates
{
    /// <summary>Writes the certificates into <paramref name="dir"/>.</summary>
    public static async Task<EtcdTls> CreateAsync(string dir, bool requireClientCert, CancellationToken ct = default)
    {
        Directory.CreateDirectory(dir);
        string P(string f) => Path.Combine(dir, f);
        // clientAuth too: with --client-cert-auth, etcd's gateway dials etcd's own gRPC server presenting this
        // certificate, and without that usage every gateway request fails with 503 "connection closed".
        await File.WriteAllTextAsync(P("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n", ct);
        await File.WriteAllTextAsync(P("client.ext"), "extendedKeyUsage=clientAuth\n", ct);
        var ec = new[] { "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes" };
        await OpenSsl(dir, ["req", "-x509", .. ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=dcron-test-ca"], ct);
        foreach (var who in new[] { "server", "client" })
        {
            await OpenSsl(dir, ["req", .. ec, "-keyout", $"{who}.key", "-out", $"{who}.csr", "-subj", $"/CN=dcron-test-{who}"], ct);
            await OpenSsl(dir, ["x509", "-req", "-in", $"{who}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", $"{who}.crt", "-days", "2", "-extfile", $"{who}.ext"], ct);
        }

        // A second, unrelated CA: a registry trusting it must refuse the server.
        await OpenSsl(dir, ["req", "-x509", .. ec, "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=other-ca"], ct);
        return new EtcdTls(P("ca.crt"), P("server.crt"), P("server.key"), P("client.crt"), P("client.key"), requireClientCert);
    }

    private static async Task OpenSsl(string dir, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("openssl") { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("openssl did not start");
        var err = p.StandardError.ReadToEndAsync(ct);
        _ = p.StandardOutput.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', args)} failed ({p.ExitCode}): {await err}");
        }
    }
}
