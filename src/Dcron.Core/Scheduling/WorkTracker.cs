namespace DistributedCron;

/// <summary>
/// Counts the engine's units of work that are runnable right now (not waiting on the clock), so a test driving a
/// fake clock can wait until the engine is idle before advancing time again. Work that waits on a timer parks
/// itself (<see cref="DelayAsync"/>); the timer's callback un-parks it synchronously, so the count never reads zero
/// while work is about to resume.
/// </summary>
internal sealed class WorkTracker
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private int _active;
    private TaskCompletionSource _idle;

    public WorkTracker(TimeProvider time)
    {
        _time = time;
        _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _idle.SetResult();
    }

    /// <summary>Runnable units of work.</summary>
    public int Active
    {
        get
        {
            lock (_lock)
            {
                return _active;
            }
        }
    }

    public void Begin()
    {
        lock (_lock)
        {
            if (_active++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public void End()
    {
        TaskCompletionSource? idle = null;
        lock (_lock)
        {
            if (_active <= 0)
            {
                throw new InvalidOperationException("WorkTracker.End without a matching Begin.");
            }

            if (--_active == 0)
            {
                idle = _idle;
            }
        }

        idle?.TrySetResult();
    }

    /// <summary>Completes when no work is runnable.</summary>
    public Task WhenIdleAsync()
    {
        lock (_lock)
        {
            return _active == 0 ? Task.CompletedTask : _idle.Task;
        }
    }

    /// <summary>Runs <paramref name="work"/> on the thread pool as one tracked unit.</summary>
    public void Run(Func<Task> work, Action<Exception> onError)
    {
        Begin();
        _ = Task.Run(async () =>
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                onError(ex);
            }
            finally
            {
                End();
            }
        });
    }

    /// <summary>
    /// Waits <paramref name="delay"/> on the engine's clock. The caller must be a tracked unit: it is parked for the
    /// wait and counted again, synchronously in the timer's callback, before it resumes.
    /// </summary>
    public async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        var park = new Parked(this);
        using (var timer = _time.CreateTimer(static s => ((Parked)s!).Wake(false), park, delay, Timeout.InfiniteTimeSpan))
        await using (ct.UnsafeRegister(static s => ((Parked)s!).Wake(true), park).ConfigureAwait(false))
        {
            park.Park();
            await park.Task.ConfigureAwait(false);
        }
    }

    /// <summary>A parked unit: 0 running, 1 parked, 2 woken.</summary>
    private sealed class Parked(WorkTracker owner)
    {
        private readonly TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _state;

        public Task Task => _tcs.Task;

        public void Park()
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
            {
                owner.End();
            }
        }

        public void Wake(bool cancelled)
        {
            var old = Interlocked.Exchange(ref _state, 2);
            if (old == 2)
            {
                return;
            }

            if (old == 1)
            {
                owner.Begin();
            }

            if (cancelled)
            {
                _tcs.TrySetCanceled();
            }
            else
            {
                _tcs.TrySetResult();
            }
        }
    }
}

/// <summary>
/// Orders the claims of one task: claims are monotonic in the registry, so a catch-up of older occurrences must
/// claim before the timer claims a newer one. A place in the lane is reserved synchronously, in dispatch order;
/// waiting for it parks the unit of work, and the predecessor's release un-parks it.
/// </summary>
internal sealed class ClaimLane(WorkTracker work)
{
    private LaneGate _tail = LaneGate.Open();

    /// <summary>Takes the next place in the lane.</summary>
    public LaneTicket Reserve()
    {
        var mine = new LaneGate();
        var prev = Interlocked.Exchange(ref _tail, mine);
        return new LaneTicket(prev, mine, work);
    }
}

/// <summary>The release of one place in a <see cref="ClaimLane"/>: 0 pending, 1 successor parked, 2 released.</summary>
internal sealed class LaneGate
{
    private readonly TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public static LaneGate Open()
    {
        var g = new LaneGate { _state = 2 };
        g._tcs.SetResult();
        return g;
    }

    public Task WaitParked(WorkTracker work)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            work.End();
            return _tcs.Task;
        }

        return Task.CompletedTask;
    }

    public void Release(WorkTracker work)
    {
        var old = Interlocked.Exchange(ref _state, 2);
        if (old == 2)
        {
            return;
        }

        if (old == 1)
        {
            work.Begin();
        }

        _tcs.TrySetResult();
    }
}

/// <summary>One place in a <see cref="ClaimLane"/>; release it exactly once (releasing twice is harmless).</summary>
internal sealed class LaneTicket(LaneGate previous, LaneGate mine, WorkTracker work)
{
    /// <summary>Waits until every earlier place was released.</summary>
    public Task WaitAsync() => previous.WaitParked(work);

    /// <summary>Lets the next place go.</summary>
    public void Release() => mine.Release(work);
}
