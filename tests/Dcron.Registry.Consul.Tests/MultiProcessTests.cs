using DistributedCron.Registry.Consul.Tests.Infrastructure;
using DistributedCron.Testing.MultiProcess;
using Xunit;
using Xunit.Abstractions;

namespace DistributedCron.Registry.Consul.Tests;

/// <summary>
/// Three OS processes (Dcron.TestHost) run one cluster on Consul, a dozen every-second tasks; one host is SIGKILLed
/// mid-way. Every occurrence in the window runs exactly once, and the survivors catch up the killed node's fires once
/// they drop it: its key stops changing, so about NodeTtl (5 s) after its last heartbeat, well before Consul reaps
/// its session (TTL 10 s, at TTL × 2). The failover time (kill → first catch-up run) is printed.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class MultiProcessTests(ITestOutputHelper output)
{
    /// <summary>Against the Consul emulator running as a fourth process, with ACLs on.</summary>
    [Fact]
    public async Task Three_processes_one_SIGKILLed_every_occurrence_runs_exactly_once()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        const string token = "mp-token";
        var (emulator, address) = await EmulatorProcess.StartAsync(token, deadline.Token);
        await using var _ = emulator;
        output.WriteLine($"Consul emulator (pid {emulator.Pid}) at {address}");
        await RunAsync(address, ["--option", "token=" + token], output, deadline.Token);
    }

    /// <summary>Runs the scenario against the Consul at <paramref name="address"/> and checks it.</summary>
    internal static async Task RunAsync(string address, IReadOnlyList<string> extraArgs, ITestOutputHelper output, CancellationToken ct)
    {
        var result = await MultiProcessRun.RunAsync(new MultiProcessScenario
        {
            Backend = "consul",
            Connect = address,
            Nodes = 3,
            Tasks = 12,
            RunFor = TimeSpan.FromSeconds(48), // the kill at 12 s, dropped ~5 s later (the session backstop: 20 s), then catch-up
            ExtraArgs = extraArgs,
        }, output.WriteLine, ct);

        result.AssertExactlyOnce();
        Assert.True(result.WindowSeconds >= 40, $"the measured window is only {result.WindowSeconds} s");
        Assert.NotEmpty(result.VictimTasks);
        Assert.True(result.CatchUpRuns > 0, "the survivors caught up none of the killed node's fires");
    }
}

/// <summary>The multi-process kill test against a real Consul agent (CONSUL_HTTP_ADDR; skipped, with the reason, otherwise).</summary>
[RequiresConsulAgent]
[Collection(HeavyCollection.Name)]
public sealed class AgentMultiProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_processes_one_SIGKILLed_every_occurrence_runs_exactly_once()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var o = AgentTarget.Options("unused");
        var args = new List<string>();
        void Option(string name, string? value)
        {
            if (value is not null)
            {
                args.AddRange(["--option", $"{name}={value}"]);
            }
        }

        Option("token", o.Token);
        Option("ca", o.CaCertificatePath);
        Option("cert", o.ClientCertificatePath);
        Option("key", o.ClientKeyPath);
        Option("server-name", o.ServerName);
        output.WriteLine($"Consul agent at {o.Address}");
        await MultiProcessTests.RunAsync(o.Address, args, output, deadline.Token);
    }
}
