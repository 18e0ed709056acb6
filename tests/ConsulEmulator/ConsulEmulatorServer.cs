using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using DistributedCron.Testing.Consul.Http;
using DistributedCron.Testing.Consul.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Testing.Consul;

/// <summary>
/// The Consul emulator: an ASP.NET Core (Kestrel) server on 127.0.0.1 over a <see cref="ConsulState"/>. It can be
/// stopped and started again on the same port with its state kept (a server restart: open blocking queries are cut
/// off, clients reconnect), or its state can be lost (<see cref="ConsulState.Reset"/>).
/// </summary>
public sealed class ConsulEmulatorServer : IAsyncDisposable
{
    private readonly ConsulEmulatorOptions _options;
    private WebApplication? _app;
    private CancellationTokenSource? _stopping;
    private int _port;

    private ConsulEmulatorServer(ConsulEmulatorOptions options)
    {
        _options = options;
        State = new ConsulState(options);
        _port = options.Port;
    }

    /// <summary>The emulated server state (tests inspect it, expire sessions, reap tombstones, inject faults).</summary>
    public ConsulState State { get; }

    /// <summary>The HTTP address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Address => $"{(_options.ServerCertificate is null ? "http" : "https")}://127.0.0.1:{_port}";

    /// <summary>The TCP port.</summary>
    public int Port => _port;

    /// <summary>True while it serves requests.</summary>
    public bool IsRunning => _app is not null;

    /// <summary>Starts an emulator and returns once it accepts requests.</summary>
    public static async Task<ConsulEmulatorServer> StartAsync(ConsulEmulatorOptions? options = null, CancellationToken ct = default)
    {
        var server = new ConsulEmulatorServer(options ?? new ConsulEmulatorOptions());
        await server.StartAsync(ct).ConfigureAwait(false);
        return server;
    }

    /// <summary>Starts serving again on the same port, with the same state.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException($"The Consul emulator at {Address} is already running.");
        }

        var stopping = new CancellationTokenSource();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>(); // never hook the test process's signals
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, _port, listen =>
            {
                if (_options.ServerCertificate is { } cert)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = cert;
                        if (_options.ClientCertificateAuthority is { } ca)
                        {
                            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                            https.ClientCertificateValidation = (client, _, _) => IssuedBy(client, ca);
                        }
                    });
                }
            });
            k.Limits.MaxRequestBodySize = 8L * 1024 * 1024; // the API answers 413 itself, at Consul's limits
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        var api = new ConsulHttpApi(State, stopping.Token);
        app.Run(api.HandleAsync);
        await app.StartAsync(ct).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _port = new Uri(address).Port;
        _app = app;
        _stopping = stopping;
    }

    /// <summary>Stops serving (open requests are cut off without an answer); the state stays for <see cref="StartAsync(CancellationToken)"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is not { } app)
        {
            return;
        }

        _app = null;
        await _stopping!.CancelAsync().ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _stopping = null;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        State.StopSessionTimers();
    }

    private static bool IssuedBy(X509Certificate2 client, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(client);
    }

    /// <summary>A host lifetime that does not register for SIGTERM/SIGINT (the emulator runs inside test processes).</summary>
    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
