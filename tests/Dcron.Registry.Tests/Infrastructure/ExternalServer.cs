using System.Diagnostics;

namespace DistributedCron.Testing;

/// <summary>
/// A server process started by a test (redis-server, etcd, java for ZooKeeper) on 127.0.0.1: started with a log
/// file, probed until ready, stopped (SIGTERM, then SIGKILL) or killed (SIGKILL) by its own PID only, restartable
/// with the same arguments and data directory.
/// </summary>
public sealed class ExternalServer : IAsyncDisposable
{
    private readonly string _fileName;
    private readonly IReadOnlyList<string> _args;
    private readonly Func<CancellationToken, Task<bool>> _ready;
    private readonly TimeSpan _readyTimeout;
    private Process? _process;
    private int _starts;

    /// <summary>Describes a server; nothing starts until <see cref="StartAsync"/>.</summary>
    /// <param name="name">A short name for logs and the log file.</param>
    /// <param name="fileName">The executable.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="ready">A probe that returns true once the server serves requests.</param>
    /// <param name="workDir">A directory for data and logs (created; removed on dispose).</param>
    /// <param name="readyTimeout">How long to wait for the probe (default 60 s).</param>
    public ExternalServer(string name, string fileName, IEnumerable<string> args, Func<CancellationToken, Task<bool>> ready,
        string workDir, TimeSpan? readyTimeout = null)
    {
        Name = name;
        _fileName = fileName;
        _args = args.ToArray();
        _ready = ready;
        WorkDir = workDir;
        _readyTimeout = readyTimeout ?? TimeSpan.FromSeconds(60);
        Directory.CreateDirectory(workDir);
    }

    /// <summary>The server's name.</summary>
    public string Name { get; }

    /// <summary>The data and log directory.</summary>
    public string WorkDir { get; }

    /// <summary>The log file of the latest start.</summary>
    public string LogPath => Path.Combine(WorkDir, $"{Name}.{_starts}.log");

    /// <summary>The PID of the running process, or null.</summary>
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Makes a fresh temporary work directory under /tmp.</summary>
    public static string NewWorkDir(string prefix) =>
        Directory.CreateTempSubdirectory($"dcron-{prefix}-").FullName;

    /// <summary>Starts the process and waits until the readiness probe passes.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} is already running (pid {Pid}).");
        }

        _starts++;
        var psi = new ProcessStartInfo(_fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDir,
        };
        foreach (var a in _args)
        {
            psi.ArgumentList.Add(a);
        }

        var log = new ProcessLog(LogPath);
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => log.Write(e.Data);
        p.ErrorDataReceived += (_, e) => log.Write(e.Data);
        // Output lines can still arrive after Exited; the log closes itself when both streams reach EOF.
        if (!p.Start())
        {
            throw new InvalidOperationException($"Could not start {Name} ({_fileName}).");
        }

        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _process = p;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_readyTimeout);
        while (true)
        {
            if (p.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {p.ExitCode} while starting. Log tail:\n{Tail()}");
            }

            try
            {
                if (await _ready(timeout.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception) when (!timeout.IsCancellationRequested)
            {
                // not ready yet: the probe could not connect
            }

            try
            {
                await Task.Delay(50, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                break;
            }
        }

        await KillAsync().ConfigureAwait(false);
        throw new TimeoutException($"{Name} was not ready within {_readyTimeout}. Log tail:\n{Tail()}");
    }

    /// <summary>Stops gracefully: SIGTERM, then SIGKILL after <paramref name="grace"/> (default 15 s).</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        var p = _process;
        if (p is null || p.HasExited)
        {
            return;
        }

        Signal(p.Id, 15);
        using var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(15));
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Kills at once with SIGKILL (a crash, for failover tests) and waits for the exit.</summary>
    public async Task KillAsync()
    {
        var p = _process;
        if (p is null || p.HasExited)
        {
            return;
        }

        p.Kill(entireProcessTree: true);
        await p.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>The last lines of the current log.</summary>
    public string Tail(int lines = 40)
    {
        try
        {
            using var fs = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(fs);
            var all = r.ReadToEnd().Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException ex)
        {
            return $"(no log: {ex.Message})";
        }
    }

    /// <summary>Kills the process if it still runs and deletes the work directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process?.Dispose();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
            // a file still held open by an exiting child: leave the temp directory to the OS
        }
        catch (UnauthorizedAccessException)
        {
            // same
        }
    }

    private static void Signal(int pid, int signal)
    {
        if (sys_kill(pid, signal) != 0)
        {
            // the process is gone already; WaitForExit below returns at once
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int sys_kill(int pid, int sig);

    /// <summary>The log file of one start: written from two output streams, closed after both reach EOF (null line).</summary>
    private sealed class ProcessLog
    {
        private readonly StreamWriter _writer;
        private int _open = 2;

        public ProcessLog(string path) => _writer = new StreamWriter(path, append: false) { AutoFlush = true };

        public void Write(string? line)
        {
            lock (_writer)
            {
                if (_open == 0)
                {
                    return;
                }

                if (line is not null)
                {
                    _writer.WriteLine(line);
                }
                else if (--_open == 0)
                {
                    _writer.Dispose();
                }
            }
        }
    }
}
