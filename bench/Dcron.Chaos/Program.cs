using DistributedCron.Chaos;
using DistributedCron.Testing;

// The chaos run (issue 9, DESIGN.md §9). See ChaosOptions.Usage; exit code 0 = exactly-once, 1 = duplicates or
// missed fires, 2 = bad arguments, 3 = the run itself failed. Every process started here is ended by its PID.
ChaosOptions o;
try
{
    o = ChaosOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    await Console.Error.WriteLineAsync(ChaosOptions.Usage + "\n" + ex.Message);
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Console.Error.WriteLine("Ctrl-C: stopping, killing every process this run started…");
    cts.Cancel();
};

void Say(string line) => Console.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss} {line}");

ExternalServer? server = null;
try
{
    Say($"starting {o.Backend} on 127.0.0.1 (seed {o.Seed})");
    (server, var connect) = await Servers.StartAsync(o.Backend, cts.Token);
    Say($"{o.Backend} ready at {connect} (pid {server.Pid})");
    var outcome = await ChaosRun.RunAsync(o, server, connect, Say, cts.Token);
    var report = new ChaosReport(outcome);
    var md = report.Markdown();
    Console.WriteLine();
    Console.WriteLine(md);
    if (o.Out is { } path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, md);
        Say("written " + path);
    }

    var history = Path.GetFullPath(o.History);
    Directory.CreateDirectory(Path.GetDirectoryName(history)!);
    await File.AppendAllTextAsync(history, (File.Exists(history) ? "" : "# Chaos runs (appended by bench/Dcron.Chaos)\n\n" + ChaosReport.HistoryHeader)
        + report.HistoryRow(DateTimeOffset.UtcNow));
    Say("appended to " + history);
    if (report.Clean)
    {
        Directory.Delete(outcome.WorkDir, recursive: true);
        return 0;
    }

    Say($"NOT exactly-once: {report.Duplicates} duplicate(s), {report.Missed} missed; run log kept in {outcome.WorkDir}");
    return 1;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    Say("cancelled");
    return 3;
}
catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or FileNotFoundException)
{
    await Console.Error.WriteLineAsync("chaos run failed: " + ex);
    return 3;
}
finally
{
    if (server is not null)
    {
        await server.DisposeAsync();
    }
}
