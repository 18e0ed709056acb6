using System.Globalization;
using DistributedCron.Testing;

namespace DistributedCron.Registry.Consul.Tests.Infrastructure;

/// <summary>The Consul emulator as its own OS process (<c>dotnet ConsulEmulator.dll --port N</c>), started and stopped by its PID.</summary>
public static class EmulatorProcess
{
    /// <summary>Starts the standalone emulator on a free port with ACLs on and <paramref name="token"/> allowed everything.</summary>
    public static async Task<(ExternalServer Server, string Address)> StartAsync(string token, CancellationToken ct)
    {
        var port = FreePort.Next();
        var address = $"http://127.0.0.1:{port}";
        var dll = Path.Combine(AppContext.BaseDirectory, "ConsulEmulator.dll");
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var server = new ExternalServer("consul-emulator", "dotnet",
            [dll, "--port", port.ToString(CultureInfo.InvariantCulture), "--token", token, "--exit-on-stdin-eof"],
            async c => (await probe.GetAsync(address + "/v1/status/leader", c)).IsSuccessStatusCode,
            ExternalServer.NewWorkDir("consul-emulator"));
        try
        {
            await server.StartAsync(ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return (server, address);
    }
}
