using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace DistributedCron.TestHost;

/// <summary>
/// The shared run log: several processes append to one file. Each line is one write(2) on a descriptor opened
/// with O_APPEND, which the kernel makes atomic for a local file, so lines of different processes never interleave
/// and a SIGKILL loses nothing already written (it is in the page cache).
/// </summary>
internal sealed class RunLog : IDisposable
{
    private const int O_WRONLY = 0x1;
    private const int O_CREAT = 0x40;
    private const int O_APPEND = 0x400;
    private const int O_CLOEXEC = 0x80000;
    private readonly int _fd;

    public RunLog(string path)
    {
        _fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, Convert.ToInt32("644", 8));
        if (_fd < 0)
        {
            throw new IOException($"Cannot open run log '{path}' (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>Appends <c>task scheduledAtUnixMs nodeId fencingToken isCatchUp startedUnixMs</c> (tab-separated).</summary>
    public void Append(string task, DateTimeOffset scheduledAt, string nodeId, long token, bool isCatchUp, DateTimeOffset started)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{task}\t{scheduledAt.ToUnixTimeMilliseconds()}\t{nodeId}\t{token}\t{(isCatchUp ? 1 : 0)}\t{started.ToUnixTimeMilliseconds()}\n");
        var bytes = Encoding.UTF8.GetBytes(line);
        var written = write(_fd, bytes, (nint)bytes.Length);
        if (written != bytes.Length)
        {
            throw new IOException($"Short write to the run log ({written} of {bytes.Length} bytes, errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    public void Dispose() => close(_fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, byte[] buf, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
