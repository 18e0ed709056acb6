using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.Redis;

/// <summary>Log events of the Redis registry (stable ids 4100–4199).</summary>
internal static partial class RedisLog
{
    [LoggerMessage(4100, LogLevel.Warning, "Redis connection to {Endpoint} ({ConnectionType}) failed: {FailureType}")]
    public static partial void ConnectionFailed(ILogger logger, string endpoint, string connectionType, string failureType);

    [LoggerMessage(4101, LogLevel.Information, "Redis connection to {Endpoint} ({ConnectionType}) restored; open watches re-read the server")]
    public static partial void ConnectionRestored(ILogger logger, string endpoint, string connectionType);

    [LoggerMessage(4102, LogLevel.Warning, "Redis watch on {Channel} could not read the server; retrying in {DelayMs} ms")]
    public static partial void WatchReadFailed(ILogger logger, string channel, double delayMs, Exception exception);

    [LoggerMessage(4103, LogLevel.Information, "Redis watch on {Channel} resynchronised with a snapshot ({Reason}) at revision {Revision}")]
    public static partial void WatchResynced(ILogger logger, string channel, string reason, long revision);

    [LoggerMessage(4106, LogLevel.Debug, "Redis watch on {Channel} started at revision {Revision}")]
    public static partial void WatchStarted(ILogger logger, string channel, long revision);

    [LoggerMessage(4104, LogLevel.Warning, "Redis watch on {Channel} received an undecodable message; resynchronising: {Message}")]
    public static partial void WatchBadMessage(ILogger logger, string channel, string message, Exception? exception);

    [LoggerMessage(4105, LogLevel.Warning, "Unsubscribing from {Channel} failed")]
    public static partial void UnsubscribeFailed(ILogger logger, string channel, Exception exception);
}
