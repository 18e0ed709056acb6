using System.Runtime.InteropServices;
using DistributedCron;
using DistributedCron.TestHost;
using DistributedCron.TestHost.Backends;
using Microsoft.Extensions.Logging;

// One Dcron node per process (see HostArgs for the command line). Prints "READY <nodeId>" on stdout once the node
// is Working; every run appends one line to the shared log; exits cleanly on SIGTERM, SIGINT or stdin EOF (so a
// node never outlives the test that started it). Logs go to stderr.
HostArgs host;
try
{
    host = HostArgs.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    await Console.Error.WriteLineAsync("usage: Dcron.TestHost --backend <redis|etcd|zookeeper|consul> --connect <string> --namespace <ns> "
        + "--node-id <id> --log <path> --tasks <N> [--schedules \"cron|cron…\"] [--heartbeat-ms N] [--ttl-ms N] [--clock-offset-ms N] [--catch-up-ms N] [--option k=v]…\n"
        + ex.Message);
    return 2;
}

using var loggers = LoggerFactory.Create(b => b
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
        o.UseUtcTimestamp = true;
    })
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace) // all log output on stderr: stdout carries READY only
    .AddFilter("Microsoft", LogLevel.Warning));

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
_ = Task.Run(async () =>
{
    while (await Console.In.ReadLineAsync().ConfigureAwait(false) is not null)
    {
    }

    await stop.CancelAsync().ConfigureAwait(false);
});

var log = new RunLog(host.LogPath);
var registry = await BackendFactory.CreateAsync(host, loggers, stop.Token);
try
{
    await using var dc = new Dcron(registry, o =>
    {
        o.NodeId = host.NodeId;
        o.MisfirePolicy = MisfirePolicy.FireAll;
        o.LoggerFactory = loggers;
        if (host.Heartbeat is { } hb)
        {
            o.HeartbeatInterval = hb;
        }

        if (host.Ttl is { } ttl)
        {
            o.NodeTtl = ttl;
        }

        if (host.CatchUpInterval is { } cu)
        {
            o.CatchUpInterval = cu;
        }

        if (host.ClockOffset != TimeSpan.Zero)
        {
            o.TimeProvider = new OffsetTimeProvider(TimeProvider.System, host.ClockOffset);
        }
    });
    for (var i = 0; i < host.Tasks; i++)
    {
        dc.AddFunc(HostArgs.TaskName(i), host.Schedules[i % host.Schedules.Count], ctx =>
        {
            // First thing in the run, so a kill right after the claim loses as little as possible.
            log.Append(ctx.TaskName, ctx.ScheduledAt, ctx.NodeId, ctx.FencingToken, ctx.IsCatchUp, DateTimeOffset.UtcNow);
            return Task.CompletedTask;
        });
    }

    await dc.StartAsync(stop.Token);
    Console.Out.WriteLine("READY " + host.NodeId);
    Console.Out.Flush();
    try
    {
        await Task.Delay(Timeout.Infinite, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }

    await dc.StopAsync(CancellationToken.None);
    Console.Out.WriteLine("STOPPED " + host.NodeId);
    return 0;
}
finally
{
    await registry.DisposeAsync();
    log.Dispose();
}
