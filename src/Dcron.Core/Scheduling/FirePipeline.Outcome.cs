namespace DistributedCron;

/// <summary>The end of a fire: recording the outcome, the post-run action, and reporting.</summary>
internal sealed partial class FirePipeline
{
    /// <summary>Applies ExecutedAndCleanup or the tombstone. Returns (outcome already taken care of, keep the task spent here).</summary>
    private async Task<(bool Recorded, bool KeepSpent)> PostRunAsync(TaskDefinition def, FireClaim claim)
    {
        var name = def.Name;
        if (def.Meta.ExecutedAndCleanup)
        {
            var error = await RetryAsync(ct => engine.Registry.ForceCleanupTaskAsync(name, ct)).ConfigureAwait(false);
            if (error is not null)
            {
                PostRunFailed(def, claim, "cleanup", error);
                return (false, true);
            }

            lock (engine.Gate)
            {
                engine.Catalog.RemoveMeta(name);
                engine.Catalog.SetDeleted(name, false);
            }

            engine.RequestReconcile();
            return (true, true);
        }

        var failed = await RetryAsync(ct => engine.Registry.MarkTaskDeletedAsync(name, ct)).ConfigureAwait(false);
        if (failed is not null)
        {
            PostRunFailed(def, claim, "tombstone", failed);
            return (false, true);
        }

        lock (engine.Gate)
        {
            engine.Catalog.SetDeleted(name, true);
        }

        engine.RequestReconcile();
        return (false, true);
    }

    private void PostRunFailed(TaskDefinition def, FireClaim claim, string action, Exception error)
    {
        Log.PostRunFailed(engine.Logger, def.Name, action, error);
        ReportError(def, claim.ScheduledAt, 1, TaskErrorStage.PostRun, error);
    }

    /// <summary>Records an outcome, retrying registry errors; a final failure is logged and reported.</summary>
    public async Task CompleteAsync(TaskDefinition def, FireClaim claim, FireOutcome outcome)
    {
        var error = await RetryAsync(ct => engine.Registry.CompleteFireAsync(claim, outcome, ct)).ConfigureAwait(false);
        if (error is not null)
        {
            Log.CompleteFireFailed(engine.Logger, def.Name, claim.ScheduledAt, outcome.Status, error);
            ReportError(def, claim.ScheduledAt, outcome.Attempts, TaskErrorStage.RecordOutcome, error);
        }
    }

    /// <summary>Runs a registry write up to 6 times with backoff; returns the last error, or null on success.</summary>
    private async Task<Exception?> RetryAsync(Func<CancellationToken, Task> call)
    {
        var ct = engine.FinalStop.Token;
        var delay = TimeSpan.FromMilliseconds(100);
        Exception? last = null;
        for (var i = 0; i < 6; i++)
        {
            try
            {
                await call(ct).ConfigureAwait(false);
                return null;
            }
            catch (OperationCanceledException ex) when (ct.IsCancellationRequested)
            {
                return new OperationCanceledException("The node stopped before the registry write succeeded.", last ?? ex, ct);
            }
            catch (Exception ex)
            {
                last = ex;
            }

            try
            {
                await engine.Work.DelayAsync(delay, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (ct.IsCancellationRequested)
            {
                return new OperationCanceledException("The node stopped before the registry write succeeded.", last ?? ex, ct);
            }

            delay *= 2;
        }

        return last;
    }

    /// <summary>Hands an error to the log's companion, <see cref="DcronOptions.ErrorHandler"/>; a throwing handler is logged.</summary>
    public void ReportError(TaskDefinition def, DateTimeOffset at, int attempt, TaskErrorStage stage, Exception error)
    {
        if (engine.Options.ErrorHandler is not { } handler)
        {
            return;
        }

        try
        {
            handler(new TaskErrorContext
            {
                Task = def.Meta,
                ScheduledAt = at,
                NodeId = engine.NodeId,
                Attempt = attempt,
                Stage = stage,
                Exception = error,
            });
        }
        catch (Exception ex)
        {
            Log.ErrorHandlerThrew(engine.Logger, def.Name, ex);
        }
    }

    /// <summary>Counts and publishes how this node settled one occurrence.</summary>
    public void Report(string task, DateTimeOffset at, FireResult result, bool catchUp, TimeSpan lag = default,
        long token = 0, int attempts = 0, TimeSpan duration = default, string? error = null)
    {
        engine.Metrics.Fire(result, catchUp);
        engine.Raise(engine.FireCompleted, new FireCompletedEventArgs
        {
            TaskName = task,
            ScheduledAt = at,
            NodeId = engine.NodeId,
            Result = result,
            IsCatchUp = catchUp,
            Lag = lag,
            FencingToken = token,
            Attempts = attempts,
            Duration = duration,
            Error = error,
        }, nameof(Dcron.FireCompleted));
    }
}
