using System.Globalization;
using System.Runtime.InteropServices;
using DistributedCron.Testing.Consul;

// Standalone Consul emulator (for tests that need it in its own process, e.g. the multi-process kill test):
//   dotnet ConsulEmulator.dll [--port N] [--ttl-multiplier X] [--session-ttl-min-ms N] [--token SECRET] [--exit-on-stdin-eof]
// Prints "READY http://127.0.0.1:PORT" once it serves; stops on SIGTERM or SIGINT (and at stdin EOF when asked).
// With --token, ACLs are on and SECRET may read and write every key and session (anonymous requests get 403).
var options = new ConsulEmulatorOptions();
var exitOnEof = false;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--port":
            options.Port = int.Parse(Next(), CultureInfo.InvariantCulture);
            break;
        case "--ttl-multiplier":
            options.SessionTtlMultiplier = double.Parse(Next(), CultureInfo.InvariantCulture);
            break;
        case "--session-ttl-min-ms":
            options.SessionTtlMin = TimeSpan.FromMilliseconds(int.Parse(Next(), CultureInfo.InvariantCulture));
            break;
        case "--token":
            options.Acl ??= new EmulatorAcl();
            options.Acl.Tokens[Next()] = AclPolicy.WriteEverything();
            break;
        case "--exit-on-stdin-eof":
            exitOnEof = true;
            break;
        default:
            await Console.Error.WriteLineAsync($"unknown argument '{args[i]}'");
            return 2;
    }
}

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
if (exitOnEof)
{
    _ = Task.Run(async () =>
    {
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is not null)
        {
        }

        await stop.CancelAsync().ConfigureAwait(false);
    });
}

await using var server = await ConsulEmulatorServer.StartAsync(options, stop.Token);
Console.Out.WriteLine("READY " + server.Address);
Console.Out.Flush();
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

return 0;
