using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.Consul;

/// <summary>The Consul registry's log events (stable ids 4400–4419).</summary>
internal static partial class ConsulLog
{
    [LoggerMessage(EventId = 4400, Level = LogLevel.Debug, Message = "Consul at {Address} failed {What}: {Reason}")]
    public static partial void RequestFailed(ILogger logger, string address, string what, string reason);

    [LoggerMessage(EventId = 4401, Level = LogLevel.Debug, Message = "Consul at {Address} did not answer {What} within {Timeout}")]
    public static partial void RequestTimedOut(ILogger logger, string address, string what, TimeSpan timeout);

    [LoggerMessage(EventId = 4402, Level = LogLevel.Debug, Message = "Registered node {NodeId} with session {SessionId} (TTL {Ttl})")]
    public static partial void Registered(ILogger logger, string nodeId, string sessionId, string ttl);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Information, Message = "The node TTL {Requested} is below the session minimum {Minimum}; node {NodeId} uses a {Minimum} session: watchers still drop it {Requested} after its last heartbeat, Consul deletes its key only when the session expires (2 × {Minimum})")]
    public static partial void TtlRaised(ILogger logger, TimeSpan requested, TimeSpan minimum, string nodeId);

    [LoggerMessage(EventId = 4404, Level = LogLevel.Information, Message = "The session {SessionId} of node {NodeId} is gone (expired or destroyed)")]
    public static partial void SessionGone(ILogger logger, string sessionId, string nodeId);

    [LoggerMessage(EventId = 4405, Level = LogLevel.Information, Message = "Node {NodeId} was held by session {SessionId}; destroying it to register again")]
    public static partial void TakingOver(ILogger logger, string nodeId, string sessionId);

    [LoggerMessage(EventId = 4406, Level = LogLevel.Warning, Message = "Could not destroy session {SessionId} of node {NodeId}; it expires by itself")]
    public static partial void DestroyFailed(ILogger logger, Exception ex, string sessionId, string nodeId);

    [LoggerMessage(EventId = 4407, Level = LogLevel.Warning, Message = "Watch on {Prefix} interrupted ({Failures} failures): {Reason}")]
    public static partial void WatchInterrupted(ILogger logger, string prefix, int failures, string reason);

    [LoggerMessage(EventId = 4408, Level = LogLevel.Debug, Message = "Watch on {Prefix} still interrupted ({Failures} failures): {Reason}")]
    public static partial void WatchStillInterrupted(ILogger logger, string prefix, int failures, string reason);

    [LoggerMessage(EventId = 4409, Level = LogLevel.Information, Message = "Watch on {Prefix}: X-Consul-Index went from {Previous} to {Index}; resetting to 0 and re-reading")]
    public static partial void IndexReset(ILogger logger, string prefix, ulong previous, ulong index);

    [LoggerMessage(EventId = 4410, Level = LogLevel.Information, Message = "Watch on {Prefix} resumed after {Failures} failures")]
    public static partial void WatchResumed(ILogger logger, string prefix, int failures);

    [LoggerMessage(EventId = 4411, Level = LogLevel.Warning, Message = "Skipping the unreadable record {Key} in the watch on {Prefix}")]
    public static partial void SkippedRecord(ILogger logger, Exception ex, string key, string prefix);

    [LoggerMessage(EventId = 4412, Level = LogLevel.Debug, Message = "A claim of {Task} at {ScheduledAt} timed out; its write was applied (claim id {ClaimId})")]
    public static partial void ClaimRecovered(ILogger logger, string task, DateTimeOffset scheduledAt, string claimId);

    [LoggerMessage(EventId = 4413, Level = LogLevel.Information, Message = "Node {NodeId} has not heart-beaten for {Silence} (its TTL is {Ttl}): it is left out of the live nodes until its key changes again")]
    public static partial void NodeSilent(ILogger logger, string nodeId, TimeSpan silence, TimeSpan ttl);

    [LoggerMessage(EventId = 4414, Level = LogLevel.Information, Message = "Node {NodeId} heart-beats again after {Silence} of silence")]
    public static partial void NodeBack(ILogger logger, string nodeId, TimeSpan silence);

    [LoggerMessage(EventId = 4415, Level = LogLevel.Information, Message = "Node {NodeId} last wrote its key {Silence} ago, more than its TTL {Ttl}: its registration counts as expired (session {SessionId} destroyed)")]
    public static partial void SelfExpired(ILogger logger, string nodeId, TimeSpan silence, TimeSpan ttl, string sessionId);
}
