using System.Threading.Channels;

namespace DistributedCron;

/// <summary>A watch that can be ended from outside (by the registry's dispose).</summary>
internal interface IWatchSubscription
{
    /// <summary>Ends the watch after the events already queued.</summary>
    void Complete();

    /// <summary>Removes the subscription from its namespace's watcher list. Caller holds the store's lock.</summary>
    void Detach();
}

/// <summary>
/// One subscriber's queue of events. The writer never blocks: when the bounded queue is full, the backlog is
/// dropped and replaced by a fresh snapshot, which the consumer uses to replace its view.
/// </summary>
/// <remarks><see cref="Publish"/>, <see cref="Complete"/> and <see cref="Detach"/> run under the store's lock.</remarks>
internal sealed class WatchSubscription<T> : IWatchSubscription
    where T : class
{
    private readonly Channel<T> _channel;
    private readonly List<WatchSubscription<T>> _owner;
    private bool _completed;

    public WatchSubscription(int capacity, List<WatchSubscription<T>> owner)
    {
        _owner = owner;
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false, // the writer drains the backlog on overflow
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>The consumer's end.</summary>
    public ChannelReader<T> Reader => _channel.Reader;

    /// <summary>How many times the backlog was replaced by a snapshot (for tests).</summary>
    public int Overflows { get; private set; }

    /// <summary>Queues <paramref name="e"/>; on overflow drops the backlog and queues <paramref name="snapshot"/>() instead.</summary>
    public void Publish(T e, Func<T> snapshot)
    {
        if (_completed || _channel.Writer.TryWrite(e))
        {
            return;
        }

        // Full: everything queued is superseded by a snapshot of the state after e.
        while (_channel.Reader.TryRead(out _))
        {
        }

        Overflows++;
        if (!_channel.Writer.TryWrite(snapshot()))
        {
            throw new InvalidOperationException("A drained watch queue refused its snapshot.");
        }
    }

    /// <summary>Queues a fresh snapshot, replacing the backlog if the queue is full.</summary>
    public void PublishSnapshot(Func<T> snapshot) => Publish(snapshot(), snapshot);

    public void Complete()
    {
        _completed = true;
        _channel.Writer.TryComplete();
    }

    public void Detach() => _owner.Remove(this);
}
