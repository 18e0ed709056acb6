using System.Diagnostics;

namespace DistributedCron.Testing.MultiProcess;

/// <summary>
/// One <c>Dcron.TestHost</c> process: started with <c>dotnet Dcron.TestHost.dll …</c>, its stdout watched for
/// <c>READY</c>, its stderr kept in a file. Stopped by closing its stdin (the host exits on EOF) or killed with
/// SIGKILL, always by its own PID. Because the host also exits when its stdin closes, it cannot outlive the test
/// process even if the test process itself dies.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _stderr;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();

    private HostProcess(string nodeId, Process process, StreamWriter stderr, string stderrPath)
    {
        NodeId = nodeId;
        _process = process;
        _stderr = stderr;
        StderrPath = stderrPath;
    }

    /// <summary>The node id given with --node-id.</summary>
    public string NodeId { get; }

    /// <summary>Where the host's stderr (its log) goes.</summary>
    public string StderrPath { get; }

    /// <summary>The PID.</summary>
    public int Pid => _process.Id;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>When the host was killed (SIGKILL), or null.</summary>
    public DateTimeOffset? KilledAt { get; private set; }

    /// <summary>Starts a host. <paramref name="args"/> are the host's arguments (after the dll).</summary>
    public static HostProcess Start(string hostDll, string nodeId, IEnumerable<string> args, string workDir)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        psi.ArgumentList.Add(hostDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_gcServer"] = "0";
        var stderrPath = Path.Combine(workDir, nodeId + ".stderr.log");
        var stderr = new StreamWriter(stderrPath, append: true) { AutoFlush = true };
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var host = new HostProcess(nodeId, p, stderr, stderrPath);
        p.OutputDataReceived += (_, e) => host.OnStdout(e.Data);
        p.ErrorDataReceived += (_, e) => host.OnStderr(e.Data);
        p.Exited += (_, _) => host._ready.TrySetException(new InvalidOperationException(
            $"Host {nodeId} exited (code {SafeExitCode(p)}) before it was ready. Stderr tail:\n{host.StderrTail()}"));
        if (!p.Start())
        {
            throw new InvalidOperationException($"Could not start the test host for {nodeId}.");
        }

        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits for the host's READY line.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await _ready.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Host {NodeId} was not READY within {timeout}. Stderr tail:\n{StderrTail()}");
        }
    }

    /// <summary>SIGKILL, at once; waits for the exit.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        KilledAt = DateTimeOffset.UtcNow;
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Graceful stop: closes stdin (the host stops its node and exits); SIGKILL after <paramref name="grace"/>.</summary>
    /// <returns>The exit code, or null when the host had to be killed.</returns>
    public async Task<int?> StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return SafeExitCode(_process);
        }

        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // the pipe is already broken: the process is exiting
        }

        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            await KillAsync().ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The last lines of the host's stderr.</summary>
    public string StderrTail(int lines = 30)
    {
        try
        {
            using var fs = new FileStream(StderrPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(fs);
            var all = r.ReadToEnd().Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException ex)
        {
            return $"(no stderr: {ex.Message})";
        }
    }

    /// <summary>Kills the process if it still runs (by its own PID) and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // never started
        }

        _process.Dispose();
        lock (_gate)
        {
            _stderr.Dispose();
        }
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.StartsWith("READY ", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }

        OnStderr("[stdout] " + line);
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            try
            {
                _stderr.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // output after dispose
            }
        }
    }

    private static int SafeExitCode(Process p)
    {
        try
        {
            return p.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    /// <summary>The dotnet host that runs this test (DOTNET_HOST_PATH under the SDK), else "dotnet" from PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h))
        {
            return h;
        }

        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        return "dotnet";
    }
}
