using Microsoft.Extensions.Logging;

namespace DistributedCron;

/// <summary>
/// Every log line Dcron writes, with stable event ids: 1xxx membership, 2xxx assignment and tasks, 3xxx fires,
/// 4xxx registry and lifecycle problems.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Node {NodeId} registered (status {Status}, ttl {Ttl})")]
    public static partial void NodeRegistered(ILogger logger, string nodeId, NodeStatus status, TimeSpan ttl);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Node {NodeId} is working: {NodeCount} node(s) in view, {TaskCount} task(s) known")]
    public static partial void NodeWorking(ILogger logger, string nodeId, int nodeCount, int taskCount);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Node {NodeId} is leaving: {Running} run(s) to drain within {Timeout}")]
    public static partial void NodeLeaving(ILogger logger, string nodeId, int running, TimeSpan timeout);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Node {NodeId} stopped and unregistered")]
    public static partial void NodeStopped(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Node {NodeId} was no longer registered (expired or removed); registering it again")]
    public static partial void NodeReregistering(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Heartbeat of node {NodeId} failed")]
    public static partial void HeartbeatFailed(ILogger logger, string nodeId, Exception error);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Node {NodeId} reaches the registry again after {Outage}")]
    public static partial void RegistryRecovered(ILogger logger, string nodeId, TimeSpan outage);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Node {NodeId} could not heart-beat for {Silence} (node ttl {Ttl}): it considers itself expired and releases its tasks until a heartbeat succeeds")]
    public static partial void SelfFenced(ILogger logger, string nodeId, TimeSpan silence, TimeSpan ttl);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "Node {NodeId} sees {Working} working node(s) of {Total}: {Nodes}")]
    public static partial void ViewChanged(ILogger logger, string nodeId, int working, int total, string nodes);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Watch of {What} on node {NodeId} failed; restarting in {Delay}")]
    public static partial void WatchFailed(ILogger logger, string what, string nodeId, TimeSpan delay, Exception error);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Reading {What} from the registry failed on node {NodeId}")]
    public static partial void PollFailed(ILogger logger, string what, string nodeId, Exception error);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Watch of {What} on node {NodeId} ended without error; restarting in {Delay}")]
    public static partial void WatchEnded(ILogger logger, string what, string nodeId, TimeSpan delay);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Debug, Message = "Heartbeat of node {NodeId} still failing")]
    public static partial void HeartbeatStillFailing(ILogger logger, string nodeId, Exception error);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Debug, Message = "Reading {What} from the registry still failing on node {NodeId}")]
    public static partial void PollStillFailing(ILogger logger, string what, string nodeId, Exception error);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Node {NodeId} owns {Owned} task(s) over {Working} working node(s): +{Gained} -{Lost}")]
    public static partial void AssignmentChanged(ILogger logger, string nodeId, int owned, int working, int gained, int lost);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Dynamic task '{Task}' has an invalid cron expression '{Cron}' and is not scheduled")]
    public static partial void DynamicCronInvalid(ILogger logger, string task, string cron, Exception error);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Static task '{Task}' is tombstoned in the registry and does not run; use ReuseDeletedTaskAsync or a ForceAdd method")]
    public static partial void StaticTaskTombstoned(ILogger logger, string task);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Task '{Task}' had no fire state; node {NodeId} initialised it at {At:O} (not run)")]
    public static partial void TaskInitialised(ILogger logger, string task, string nodeId, DateTimeOffset at);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Static task '{Task}' shadows a dynamic task of the same name on node {NodeId}; the static handler runs")]
    public static partial void StaticShadowsDynamic(ILogger logger, string task, string nodeId);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Claim of '{Task}' at {ScheduledAt:O} failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void ClaimRetry(ILogger logger, string task, DateTimeOffset scheduledAt, int attempt, TimeSpan delay, Exception error);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Missed {Count} occurrence(s) of '{Task}' up to {ScheduledAt:O}: {Reason}")]
    public static partial void FireMissed(ILogger logger, long count, string task, DateTimeOffset scheduledAt, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Occurrence {ScheduledAt:O} of '{Task}' was claimed elsewhere (latest {Latest:O} by {Owner})")]
    public static partial void ClaimLost(ILogger logger, string task, DateTimeOffset scheduledAt, DateTimeOffset? latest, string? owner);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Task '{Task}' at {ScheduledAt:O} failed on attempt {Attempt} of {MaxAttempts}")]
    public static partial void HandlerFailed(ILogger logger, string task, DateTimeOffset scheduledAt, int attempt, int maxAttempts, Exception error);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "The ErrorHandler threw while handling an error of task '{Task}'")]
    public static partial void ErrorHandlerThrew(ILogger logger, string task, Exception error);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Recording the outcome {Status} of '{Task}' at {ScheduledAt:O} failed")]
    public static partial void CompleteFireFailed(ILogger logger, string task, DateTimeOffset scheduledAt, FireStatus status, Exception error);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Error, Message = "Post-run action {Action} of task '{Task}' failed")]
    public static partial void PostRunFailed(ILogger logger, string task, string action, Exception error);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "Occurrence {ScheduledAt:O} of '{Task}' skipped: the run of {RunningSince:O} on {Owner} is still running (Concurrency = Forbid)")]
    public static partial void ForbidSkipped(ILogger logger, string task, DateTimeOffset scheduledAt, DateTimeOffset runningSince, string owner);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "Catching up '{Task}': {Runs} run(s) from {From:O}, {Coalesced} coalesced, {Skipped} skipped by policy, {Expired} older than the grace")]
    public static partial void CatchingUp(ILogger logger, string task, int runs, DateTimeOffset from, int coalesced, int skipped, long expired);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Task '{Task}' at {ScheduledAt:O} timed out after {Timeout} on attempt {Attempt}")]
    public static partial void HandlerTimedOut(ILogger logger, string task, DateTimeOffset scheduledAt, TimeSpan timeout, int attempt);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Error, Message = "A handler of '{Task}' abandoned after timeout or shutdown failed later")]
    public static partial void AbandonedHandlerFailed(ILogger logger, string task, Exception error);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Catch-up of '{Task}' failed; the next sweep retries it")]
    public static partial void CatchUpFailed(ILogger logger, string task, Exception error);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Information, Message = "Occurrence {ScheduledAt:O} of '{Task}' superseded: {Latest:O} was already claimed by {Owner}")]
    public static partial void Superseded(ILogger logger, string task, DateTimeOffset scheduledAt, DateTimeOffset? latest, string? owner);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Debug, Message = "Task '{Task}' ran at {ScheduledAt:O} on {NodeId}: {Result} after {Attempts} attempt(s), lag {Lag}")]
    public static partial void FireCompleted(ILogger logger, string task, DateTimeOffset scheduledAt, string nodeId, FireResult result, int attempts, TimeSpan lag);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Warning, Message = "Task '{Task}' at {ScheduledAt:O} was cancelled by shutdown")]
    public static partial void HandlerCancelled(ILogger logger, string task, DateTimeOffset scheduledAt);

    [LoggerMessage(EventId = 3016, Level = LogLevel.Warning, Message = "Task '{Task}' at {ScheduledAt:O} failed on attempt {Attempt} of {MaxAttempts}; retrying")]
    public static partial void HandlerAttemptFailed(ILogger logger, string task, DateTimeOffset scheduledAt, int attempt, int maxAttempts, Exception error);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "A subscriber of {Event} threw")]
    public static partial void SubscriberThrew(ILogger logger, string @event, Exception error);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Stopping node {NodeId}: {Step} failed")]
    public static partial void StopStepFailed(ILogger logger, string nodeId, string step, Exception error);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Stopping node {NodeId}: {Count} run(s) still running after {Timeout}; cancelling them")]
    public static partial void DrainTimedOut(ILogger logger, string nodeId, int count, TimeSpan timeout);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "Stopping node {NodeId}: {Count} fire(s) still in progress (a handler ignoring cancellation, or an outcome write still retrying) were abandoned")]
    public static partial void RunsAbandoned(ILogger logger, string nodeId, int count);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Starting node {NodeId} failed")]
    public static partial void StartFailed(ILogger logger, string nodeId, Exception error);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "Background work '{What}' of node {NodeId} failed unexpectedly")]
    public static partial void BackgroundFailed(ILogger logger, string what, string nodeId, Exception error);
}
