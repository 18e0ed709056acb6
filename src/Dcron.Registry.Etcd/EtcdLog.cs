using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.Etcd;

/// <summary>The etcd registry's log events (stable ids 4200–4219).</summary>
internal static partial class EtcdLog
{
    [LoggerMessage(EventId = 4200, Level = LogLevel.Debug, Message = "etcd {Endpoint} failed /{Path}: {Reason}")]
    public static partial void EndpointFailed(ILogger logger, string endpoint, string path, string reason);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "etcd requests moved from {From} to {To}")]
    public static partial void FailedOver(ILogger logger, string from, string to);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Debug, Message = "Authenticated to etcd at {Endpoint} as {User}")]
    public static partial void Authenticated(ILogger logger, string endpoint, string user);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Warning, Message = "etcd at {Endpoint} has authentication disabled; the configured user {User} is not used")]
    public static partial void AuthDisabled(ILogger logger, string endpoint, string user);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Debug, Message = "Registered node {NodeId} with lease {LeaseId:x} (TTL {Ttl} s)")]
    public static partial void Registered(ILogger logger, string nodeId, long leaseId, long ttl);

    [LoggerMessage(EventId = 4205, Level = LogLevel.Information, Message = "The lease {LeaseId:x} of node {NodeId} is gone (expired or revoked)")]
    public static partial void LeaseGone(ILogger logger, long leaseId, string nodeId);

    [LoggerMessage(EventId = 4206, Level = LogLevel.Warning, Message = "Could not revoke lease {LeaseId:x} of node {NodeId}; it expires by itself")]
    public static partial void RevokeFailed(ILogger logger, Exception ex, long leaseId, string nodeId);

    [LoggerMessage(EventId = 4207, Level = LogLevel.Warning, Message = "etcd at {Endpoint} is at revision {Revision}, behind the {Seen} already seen by the watch on {Prefix}: its data was replaced; re-reading")]
    public static partial void RevisionWentBack(ILogger logger, string endpoint, long revision, long seen, string prefix);

    [LoggerMessage(EventId = 4208, Level = LogLevel.Information, Message = "Watch on {Prefix} resumed at revision {Revision} on {Endpoint}")]
    public static partial void WatchResumed(ILogger logger, string prefix, long revision, string endpoint);

    [LoggerMessage(EventId = 4209, Level = LogLevel.Information, Message = "Watch on {Prefix} needs revision {Revision} but etcd compacted up to {Compacted}; re-reading")]
    public static partial void WatchCompacted(ILogger logger, string prefix, long revision, long compacted);

    [LoggerMessage(EventId = 4210, Level = LogLevel.Warning, Message = "Watch on {Prefix} interrupted (attempt {Attempt}); retrying: {Reason}")]
    public static partial void WatchInterrupted(ILogger logger, string prefix, int attempt, string reason);

    [LoggerMessage(EventId = 4211, Level = LogLevel.Debug, Message = "Watch on {Prefix} still interrupted (attempt {Attempt}); retrying: {Reason}")]
    public static partial void WatchStillInterrupted(ILogger logger, string prefix, int attempt, string reason);
}
