namespace DistributedCron;

/// <summary>The result of running one claimed occurrence: status of the last attempt, attempts made, and whether the post-run action applies.</summary>
internal readonly record struct RunResult(FireStatus Status, int Attempts, string? Error, bool ApplyPostRun);

/// <summary>
/// Runs the handler of one granted claim: each attempt with its own timeout, retries with backoff, cancellation on
/// shutdown. Post-run semantics: a run that succeeded, failed or timed out counts (a one-shot is tombstoned, an
/// ExecutedAndCleanup task erased); a run cancelled by shutdown, or a dynamic task with no handler configured, does
/// not, so the task fires again at its next occurrence.
/// </summary>
internal sealed class HandlerRunner(Engine engine, TaskDefinition def, FireClaim claim, bool catchUp)
{
    public async Task<RunResult> RunAsync()
    {
        if (!def.IsStatic && engine.Options.DynamicTaskHandler is null)
        {
            var ex = new InvalidOperationException(
                $"Dynamic task '{def.Name}' cannot run: no DcronOptions.DynamicTaskHandler is configured on node {engine.NodeId}.");
            Log.HandlerFailed(engine.Logger, def.Name, claim.ScheduledAt, 1, 1, ex);
            engine.Fires.ReportError(def, claim.ScheduledAt, 1, TaskErrorStage.Handler, ex);
            return new RunResult(FireStatus.Failed, 1, ex.Message, ApplyPostRun: false);
        }

        var retry = def.Options.Retry;
        for (var attempt = 1; ; attempt++)
        {
            var (status, error) = await AttemptAsync(attempt).ConfigureAwait(false);
            if (status == FireStatus.Succeeded)
            {
                return new RunResult(status, attempt, null, ApplyPostRun: true);
            }

            if (status == FireStatus.Cancelled)
            {
                return new RunResult(status, attempt, error!.Message, ApplyPostRun: false);
            }

            engine.Fires.ReportError(def, claim.ScheduledAt, attempt, TaskErrorStage.Handler, error!);
            if (attempt >= retry.MaxAttempts)
            {
                return new RunResult(status, attempt, error!.Message, ApplyPostRun: true);
            }

            try
            {
                await engine.Work.DelayAsync(retry.DelayBefore(attempt + 1), engine.AbortRuns.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (engine.AbortRuns.IsCancellationRequested)
            {
                Log.HandlerCancelled(engine.Logger, def.Name, claim.ScheduledAt);
                return new RunResult(FireStatus.Cancelled, attempt, "Cancelled by shutdown during the retry backoff.", ApplyPostRun: false);
            }
        }
    }

    private async Task<(FireStatus Status, Exception? Error)> AttemptAsync(int attempt)
    {
        var abort = engine.AbortRuns.Token;
        var timeout = def.Options.Timeout;
        using var timeoutCts = timeout is { } t ? new CancellationTokenSource(t, engine.Time) : null;
        using var linked = timeoutCts is null
            ? CancellationTokenSource.CreateLinkedTokenSource(abort)
            : CancellationTokenSource.CreateLinkedTokenSource(abort, timeoutCts.Token);
        var context = new TaskContext
        {
            TaskName = def.Name,
            ScheduledAt = claim.ScheduledAt.ToUniversalTime(),
            NodeId = engine.NodeId,
            FencingToken = claim.FencingToken,
            Payload = def.Meta.Payload,
            Attempt = attempt,
            IsCatchUp = catchUp,
            CancellationToken = linked.Token,
        };

        // On the pool, so a handler that blocks before its first await cannot hold up the timeout.
        var handler = def.Handler;
        var dynamicHandler = engine.Options.DynamicTaskHandler;
        var meta = def.Meta;
        var name = def.Name;
        var running = Task.Run(
            () => (handler is not null ? handler(context) : dynamicHandler!(meta, context))
                  ?? throw new InvalidOperationException($"The handler of task '{name}' returned a null Task."),
            CancellationToken.None);
        try
        {
            await running.WaitAsync(linked.Token).ConfigureAwait(false);
            return (FireStatus.Succeeded, null);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            Observe(running);
            if (abort.IsCancellationRequested)
            {
                Log.HandlerCancelled(engine.Logger, def.Name, claim.ScheduledAt);
                return (FireStatus.Cancelled, new OperationCanceledException($"Task '{def.Name}' was cancelled by shutdown."));
            }

            Log.HandlerTimedOut(engine.Logger, def.Name, claim.ScheduledAt, timeout!.Value, attempt);
            return (FireStatus.TimedOut, new TimeoutException($"Task '{def.Name}' exceeded its timeout of {timeout.Value} on attempt {attempt}."));
        }
        catch (Exception ex)
        {
            var max = def.Options.Retry.MaxAttempts;
            if (attempt < max)
            {
                Log.HandlerAttemptFailed(engine.Logger, def.Name, claim.ScheduledAt, attempt, max, ex);
            }
            else
            {
                Log.HandlerFailed(engine.Logger, def.Name, claim.ScheduledAt, attempt, max, ex);
            }

            return (FireStatus.Failed, ex);
        }
    }

    /// <summary>A handler abandoned after timeout or shutdown: its later failure is logged, not lost.</summary>
    private void Observe(Task running)
    {
        running.ContinueWith(
            static (t, s) =>
            {
                var (e, name) = ((Engine, string))s!;
                if (t.Exception is { } ex && ex.InnerException is not OperationCanceledException)
                {
                    Log.AbandonedHandlerFailed(e.Logger, name, ex.GetBaseException());
                }
            },
            (engine, def.Name),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
