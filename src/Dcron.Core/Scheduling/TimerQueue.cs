namespace DistributedCron;

/// <summary>One scheduled occurrence in the <see cref="TimerQueue"/>. Stale entries (an older generation of the task) are dropped when popped.</summary>
internal readonly record struct TimerEntry(string Task, long Generation, DateTimeOffset Due);

/// <summary>
/// The node's local timer queue: every owned task's next occurrence in one priority queue, served by one
/// <see cref="TimeProvider"/> timer (no thread or timer per task). The timer's callback only queues the work; due
/// entries are handed to <c>onDue</c> on the thread pool, as one tracked unit of work.
/// </summary>
internal sealed class TimerQueue : IDisposable
{
    private static readonly TimeSpan MaxArm = TimeSpan.FromHours(1);

    private readonly Lock _lock = new();
    private readonly PriorityQueue<TimerEntry, DateTimeOffset> _queue = new();
    private readonly TimeProvider _time;
    private readonly WorkTracker _work;
    private readonly Action<List<TimerEntry>> _onDue;
    private readonly Action<Exception> _onError;
    private readonly ITimer _timer;
    private DateTimeOffset _armedFor = DateTimeOffset.MaxValue;
    private bool _disposed;

    public TimerQueue(TimeProvider time, WorkTracker work, Action<List<TimerEntry>> onDue, Action<Exception> onError)
    {
        _time = time;
        _work = work;
        _onDue = onDue;
        _onError = onError;
        _timer = time.CreateTimer(static s => ((TimerQueue)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Entries queued, stale ones included.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public void Enqueue(TimerEntry entry)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _queue.Enqueue(entry, entry.Due);
            if (entry.Due < _armedFor)
            {
                Arm(entry.Due);
            }
        }
    }

    /// <summary>Drops every entry (the node stopped taking fires).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _queue.Clear();
            _armedFor = DateTimeOffset.MaxValue;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _queue.Clear();
        }

        _timer.Dispose();
    }

    private void Arm(DateTimeOffset due)
    {
        // Caller holds _lock. A zero due time makes some timers call back synchronously; OnTimer only queues work.
        _armedFor = due;
        var delay = due - _time.GetUtcNow();
        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }
        else if (delay > MaxArm)
        {
            delay = MaxArm;
        }

        _timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        _work.Begin();
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Drain(), this, preferLocal: false);
    }

    private void Drain()
    {
        try
        {
            List<TimerEntry>? due = null;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _armedFor = DateTimeOffset.MaxValue;
                var now = _time.GetUtcNow();
                while (_queue.TryPeek(out var e, out var at) && at <= now)
                {
                    _queue.Dequeue();
                    (due ??= new List<TimerEntry>()).Add(e);
                }

                if (_queue.TryPeek(out _, out var next))
                {
                    Arm(next);
                }
            }

            if (due is not null)
            {
                _onDue(due);
            }
        }
        catch (Exception ex)
        {
            _onError(ex);
        }
        finally
        {
            _work.End();
        }
    }
}
