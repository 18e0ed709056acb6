using System.Diagnostics;

namespace DistributedCron;

/// <summary>How a claim attempt ended.</summary>
internal enum ClaimKind
{
    /// <summary>Granted: the caller must run it (<see cref="FirePipeline.RunAsync"/>), which releases the runtime's running count.</summary>
    Granted,

    /// <summary>Another node claimed exactly this occurrence.</summary>
    Lost,

    /// <summary>A later occurrence was claimed already.</summary>
    Superseded,

    /// <summary>The registry failed until the grace ran out.</summary>
    Missed,

    /// <summary>Refused locally by <see cref="ConcurrencyMode.Forbid"/>.</summary>
    Skipped,

    /// <summary>Not ours any more (ownership moved, node stopping, already tried): the new owner covers it.</summary>
    Abandoned,
}

internal readonly record struct ClaimResult(ClaimKind Kind, FireClaim? Claim = null, string? Reason = null);

/// <summary>
/// The fire protocol for one occurrence: claim it in the registry (retrying registry errors until the misfire grace
/// runs out), run the handler with timeout and retries inside the claim, record the outcome, apply the post-run
/// action, and report the result (metrics, log, <see cref="Dcron.FireCompleted"/>).
/// </summary>
internal sealed partial class FirePipeline(Engine engine)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(2);

    /// <summary>The timer path: claim in lane order, then run.</summary>
    public async Task FireAsync(FireItem f)
    {
        ClaimResult r;
        try
        {
            await f.Ticket.WaitAsync().ConfigureAwait(false);
            r = await ClaimAsync(f.Definition, f.Runtime, f.Generation, f.ScheduledAt).ConfigureAwait(false);
        }
        finally
        {
            f.Ticket.Release();
        }

        await SettleAsync(f.Definition, f.Runtime, f.ScheduledAt, r, catchUp: false).ConfigureAwait(false);
    }

    /// <summary>Claims occurrence <paramref name="at"/>; the caller holds the task's lane.</summary>
    public async Task<ClaimResult> ClaimAsync(TaskDefinition def, TaskRuntime rt, long generation, DateTimeOffset at)
    {
        var ct = engine.DispatchStop.Token;
        lock (engine.Gate)
        {
            if (engine.Current(rt, generation) is null || at <= rt.HighWater || (def.HasPostRun && rt.SpentVersion == def.Version))
            {
                return new ClaimResult(ClaimKind.Abandoned);
            }

            rt.HighWater = at;
        }

        var deadline = at + def.Grace;
        var delay = FirstRetry;
        var attempt = 0;
        Exception? lastError = null;
        while (true)
        {
            try
            {
                if (def.Forbid && await BlockedByRunningAsync(def, rt, at, ct).ConfigureAwait(false))
                {
                    return new ClaimResult(ClaimKind.Skipped, Reason: "the previous run is still running (Concurrency = Forbid)");
                }

                // Read after the fire state: a finished one-shot's tombstone was written before its outcome.
                if (def.HasPostRun && await AlreadyDoneAsync(def, ct).ConfigureAwait(false))
                {
                    return new ClaimResult(ClaimKind.Abandoned);
                }

                var claim = await engine.Registry.CanRunTaskAsync(def.Name, at, engine.NodeId, ct).ConfigureAwait(false);
                if (!claim.Granted && lastError is not null && claim.LastScheduledAt == at && claim.CurrentOwner == engine.NodeId)
                {
                    // An earlier attempt was granted but its answer was lost: recover the token of our own claim.
                    var state = await engine.Registry.GetFireStateAsync(def.Name, ct).ConfigureAwait(false);
                    if (state is not null && state.LastScheduledAt == at && state.Owner == engine.NodeId)
                    {
                        claim = claim with { Granted = true, FencingToken = state.FencingToken, LastScheduledAt = null, CurrentOwner = null };
                    }
                }

                lock (engine.Gate)
                {
                    // Granted or refused, the task has a fire state now.
                    NoteStateSeen(rt, generation);
                    if (claim.Granted)
                    {
                        rt.Running++;
                        if (def.HasPostRun)
                        {
                            rt.SpentVersion = def.Version;
                        }
                    }
                }

                if (claim.Granted)
                {
                    return new ClaimResult(ClaimKind.Granted, claim);
                }

                return new ClaimResult(claim.LastScheduledAt == at ? ClaimKind.Lost : ClaimKind.Superseded, claim);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return Abandon(rt, at, lastError);
            }
            catch (Exception ex)
            {
                lastError = ex;
            }

            attempt++;
            lock (engine.Gate)
            {
                if (engine.Current(rt, generation) is null)
                {
                    return Abandon(rt, at, lastError);
                }
            }

            var now = engine.Time.GetUtcNow();
            if (now >= deadline)
            {
                return new ClaimResult(ClaimKind.Missed,
                    Reason: $"the registry failed {attempt} time(s) until the misfire grace ({def.Grace}) ran out: {lastError.Message}");
            }

            var wait = deadline - now < delay ? deadline - now : delay;
            if (attempt == 1)
            {
                Log.ClaimRetry(engine.Logger, def.Name, at, attempt, wait, lastError);
            }

            try
            {
                await engine.Work.DelayAsync(wait, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return Abandon(rt, at, lastError);
            }

            delay = delay * 2 > MaxRetry ? MaxRetry : delay * 2;
        }
    }

    /// <summary>Claims an occurrence only to mark it passed over (one attempt; errors propagate). Caller holds the lane.</summary>
    public async Task<bool> ClaimMarkerAsync(TaskDefinition def, TaskRuntime rt, long generation, DateTimeOffset at, string why)
    {
        lock (engine.Gate)
        {
            if (engine.Current(rt, generation) is null)
            {
                return false;
            }
        }

        // The caller holds the lane, so no other claim of this task interleaves; a failed call leaves the high-water
        // mark alone, so the next sweep finds (and counts) the same occurrences again.
        var claim = await engine.Registry.CanRunTaskAsync(def.Name, at, engine.NodeId, engine.DispatchStop.Token).ConfigureAwait(false);
        lock (engine.Gate)
        {
            rt.HighWater = Engine.Max(rt.HighWater, at);
            NoteStateSeen(rt, generation);
        }

        if (!claim.Granted)
        {
            return false;
        }

        var now = engine.Time.GetUtcNow();
        await CompleteAsync(def, claim, new FireOutcome { Status = FireStatus.Skipped, StartedAt = now, Error = why, Attempts = 0 }).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Records that the registry proved a fire state of the task exists, when <paramref name="generation"/> is still
    /// current (an answer from before a restart of the schedule proves nothing about the state now). Caller holds the gate.
    /// </summary>
    public void NoteStateSeen(TaskRuntime rt, long generation)
    {
        if (engine.Current(rt, generation) is not null)
        {
            rt.StateSeen = true;
        }
    }

    /// <summary>Handles a claim result: runs a granted claim, reports the others.</summary>
    public async Task SettleAsync(TaskDefinition def, TaskRuntime rt, DateTimeOffset at, ClaimResult r, bool catchUp)
    {
        switch (r.Kind)
        {
            case ClaimKind.Granted:
                await RunAsync(def, rt, r.Claim!, catchUp).ConfigureAwait(false);
                break;
            case ClaimKind.Lost:
                Log.ClaimLost(engine.Logger, def.Name, at, r.Claim?.LastScheduledAt, r.Claim?.CurrentOwner);
                Report(def.Name, at, FireResult.ClaimLost, catchUp);
                break;
            case ClaimKind.Superseded:
                Log.Superseded(engine.Logger, def.Name, at, r.Claim?.LastScheduledAt, r.Claim?.CurrentOwner);
                Report(def.Name, at, FireResult.Superseded, catchUp);
                break;
            case ClaimKind.Missed:
                Log.FireMissed(engine.Logger, 1, def.Name, at, r.Reason!);
                Report(def.Name, at, FireResult.Missed, catchUp, error: r.Reason);
                break;
            case ClaimKind.Skipped:
                Report(def.Name, at, FireResult.Skipped, catchUp, error: r.Reason);
                break;
            case ClaimKind.Abandoned:
                break;
        }
    }

    /// <summary>Runs a granted claim to its end: handler, outcome, post-run action, report.</summary>
    public async Task RunAsync(TaskDefinition def, TaskRuntime rt, FireClaim claim, bool catchUp)
    {
        var at = claim.ScheduledAt;
        var start = engine.Time.GetUtcNow();
        var lag = start - at;
        var keepSpent = false;
        try
        {
            if (lag > def.Grace)
            {
                var why = $"claimed {lag} after its time, later than the misfire grace ({def.Grace})";
                await CompleteAsync(def, claim, new FireOutcome { Status = FireStatus.Skipped, StartedAt = start, Error = why, Attempts = 0 }).ConfigureAwait(false);
                Log.FireMissed(engine.Logger, 1, def.Name, at, why);
                Report(def.Name, at, FireResult.Missed, catchUp, error: why);
                return;
            }

            engine.Metrics.Lag(lag, catchUp);
            using var activity = DcronTelemetry.Source.StartActivity("dcron.run", ActivityKind.Internal);
            activity?.SetTag("dcron.task", def.Name);
            activity?.SetTag("dcron.scheduled_at", at.UtcDateTime.ToString("O"));
            activity?.SetTag("dcron.node", engine.NodeId);
            activity?.SetTag("dcron.fencing_token", claim.FencingToken);
            activity?.SetTag("dcron.catch_up", catchUp);

            var run = await new HandlerRunner(engine, def, claim, catchUp).RunAsync().ConfigureAwait(false);
            var duration = engine.Time.GetUtcNow() - start;
            activity?.SetTag("dcron.attempts", run.Attempts);
            activity?.SetTag("dcron.outcome", run.Status.ToString());
            if (run.Status != FireStatus.Succeeded)
            {
                activity?.SetStatus(ActivityStatusCode.Error, run.Error);
            }

            var outcome = new FireOutcome
            {
                Status = run.Status,
                StartedAt = start,
                Duration = duration,
                Error = run.Error,
                Attempts = run.Attempts,
            };
            var recorded = false;
            if (def.HasPostRun && run.ApplyPostRun)
            {
                // The tombstone goes in before the outcome, so no peer sees the run finished while the task still stands.
                (recorded, keepSpent) = await PostRunAsync(def, claim).ConfigureAwait(false);
            }

            if (!recorded)
            {
                await CompleteAsync(def, claim, outcome).ConfigureAwait(false);
            }

            var result = run.Status switch
            {
                FireStatus.Succeeded => FireResult.Succeeded,
                FireStatus.TimedOut => FireResult.TimedOut,
                FireStatus.Cancelled => FireResult.Cancelled,
                _ => FireResult.Failed,
            };
            Log.FireCompleted(engine.Logger, def.Name, at, engine.NodeId, result, run.Attempts, lag);
            Report(def.Name, at, result, catchUp, lag, claim.FencingToken, run.Attempts, duration, run.Error);
        }
        finally
        {
            lock (engine.Gate)
            {
                rt.Running--;
                if (def.HasPostRun && !keepSpent && rt.SpentVersion == def.Version)
                {
                    // The run did not count (cancelled, no handler): the task may fire again.
                    rt.SpentVersion = 0;
                }
            }
        }
    }

    private async Task<bool> BlockedByRunningAsync(TaskDefinition def, TaskRuntime rt, DateTimeOffset at, CancellationToken ct)
    {
        lock (engine.Gate)
        {
            if (rt.Running > 0)
            {
                Log.ForbidSkipped(engine.Logger, def.Name, at, at, engine.NodeId);
                return true;
            }
        }

        var state = await engine.Registry.GetFireStateAsync(def.Name, ct).ConfigureAwait(false);
        if (state is not { IsRunning: true } || state.Owner == engine.NodeId)
        {
            return false;
        }

        lock (engine.Gate)
        {
            // A dead owner never blocks the task.
            if (!engine.View.Contains(state.Owner))
            {
                return false;
            }
        }

        Log.ForbidSkipped(engine.Logger, def.Name, at, state.LastScheduledAt, state.Owner);
        return true;
    }

    /// <summary>
    /// True when a task with a post-run action already ran elsewhere (its tombstone, or its erasure, may not have
    /// reached this node's catalog yet). Such tasks fire once, so the extra registry read is cheap.
    /// </summary>
    private async Task<bool> AlreadyDoneAsync(TaskDefinition def, CancellationToken ct)
    {
        bool done;
        if (def.Meta.ExecutedAndCleanup)
        {
            var tasks = await engine.Registry.GetTasksAsync(ct).ConfigureAwait(false);
            done = !tasks.ContainsKey(def.Name);
        }
        else
        {
            var deleted = await engine.Registry.GetDeletedTaskNamesAsync(ct).ConfigureAwait(false);
            done = deleted.Contains(def.Name);
            if (done)
            {
                lock (engine.Gate)
                {
                    engine.Catalog.SetDeleted(def.Name, true);
                }

                engine.RequestReconcile();
            }
        }

        return done;
    }

    private ClaimResult Abandon(TaskRuntime rt, DateTimeOffset at, Exception? lastError)
    {
        if (lastError is not null)
        {
            lock (engine.Gate)
            {
                // Never confirmed: let a later catch-up on this node consider it again (the claim itself stays monotonic).
                if (rt.HighWater == at)
                {
                    rt.HighWater = at - TimeSpan.FromTicks(1);
                }
            }
        }

        return new ClaimResult(ClaimKind.Abandoned);
    }
}
