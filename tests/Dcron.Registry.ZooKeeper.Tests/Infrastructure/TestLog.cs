using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;

/// <summary>
/// Loggers for the code under test: silent unless the environment variable <c>DCRON_ZK_TEST_LOG</c> names a file,
/// then every entry (Debug and up) is appended to it with a timestamp.
/// </summary>
public static class TestLog
{
    private static readonly string? FilePath = Environment.GetEnvironmentVariable("DCRON_ZK_TEST_LOG");
    private static readonly object Gate = new();

    /// <summary>A logger for <typeparamref name="T"/>.</summary>
    public static ILogger<T> For<T>() => FilePath is null ? NullLogger<T>.Instance : new FileLogger<T>();

    private sealed class FileLogger<T> : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} [{eventId.Id}] {formatter(state, exception)}{(exception is null ? "" : " " + exception)}";
            lock (Gate)
            {
                File.AppendAllText(FilePath!, line + Environment.NewLine);
            }
        }
    }
}
