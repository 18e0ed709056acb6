using Microsoft.Extensions.Logging;

namespace DistributedCron.Demo;

/// <summary>
/// A tiny logger for the demo: prints the engine's warnings and errors between the table rows, except the
/// per-fire retry chatter of the killed node, which is counted instead.
/// </summary>
internal sealed class ConsoleLog(Action<string> write) : ILoggerFactory, ILoggerProvider
{
    // 3001 claim retry, 1010 watch failed, 1011 poll failed: the dead node repeats these; they are counted.
    private static readonly HashSet<int> Quiet = [3001, 1010, 1011];
    private int _suppressed;

    public int Suppressed => Volatile.Read(ref _suppressed);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The demo logger has no providers.");

    public void Dispose()
    {
    }

    private sealed class Logger(ConsoleLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            if (Quiet.Contains(eventId.Id))
            {
                Interlocked.Increment(ref owner._suppressed);
                return;
            }

            var level = logLevel == LogLevel.Warning ? "warn" : "ERROR";
            var reason = exception is null ? "" : $" ({exception.GetBaseException().Message})";
            owner.Write($"           {level} {eventId.Id}: {formatter(state, exception)}{reason}");
        }
    }

    private void Write(string line) => write(line);
}
