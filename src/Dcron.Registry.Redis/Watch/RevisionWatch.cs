using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DistributedCron.Registry.Redis.Client;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.Redis.Watch;

/// <summary>
/// A watch over one change channel. The Lua scripts increment a revision counter and publish exactly one message
/// per change, so the watch knows when it has missed one: it applies messages whose revision is the next one,
/// skips those already contained in its last snapshot, and emits a fresh snapshot when a revision is skipped, the
/// connection is restored, its inbox overflows, the server's revision goes backwards (restart without
/// persistence, flush) or a periodic poll finds the server ahead of the messages received. The poll also reaps
/// expired nodes, which is what turns an expiry into a published removal.
/// </summary>
internal sealed class RevisionWatch<TEvent>
    where TEvent : class
{
    private const int InboxCapacity = 4096;
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);

    public required IRedisClient Client { get; init; }

    public required string Channel { get; init; }

    public required Func<CancellationToken, Task<(long Revision, TEvent Snapshot)>> ReadSnapshot { get; init; }

    /// <summary>Reaps what has expired and returns the server's revision.</summary>
    public required Func<CancellationToken, Task<long>> Poll { get; init; }

    /// <summary>The event for a message, or null when the message asks for a snapshot.</summary>
    public required Func<WatchMessage, TEvent?> Decode { get; init; }

    public required TimeSpan PollInterval { get; init; }

    public required TimeSpan MaxRetryDelay { get; init; }

    public required ILogger Logger { get; init; }

    /// <summary>
    /// Runs the watch: a snapshot, then changes. Ends when <paramref name="ct"/> is cancelled (throwing
    /// <see cref="OperationCanceledException"/>) or quietly when <paramref name="disposed"/> is cancelled. It never
    /// ends because the server is unreachable: subscribing and reading are retried with backoff, and nothing (above
    /// all no empty snapshot) is delivered until the server answers.
    /// </summary>
    public async IAsyncEnumerable<TEvent> RunAsync([EnumeratorCancellation] CancellationToken ct, CancellationToken disposed)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, disposed);
        var token = stop.Token;
        var state = new State(System.Threading.Channels.Channel.CreateBounded<string?>(new BoundedChannelOptions(InboxCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        }));

        void OnRestored(string _) => state.Enqueue(null);
        Client.ConnectionRestored += OnRestored;
        IAsyncDisposable? subscription = null;
        try
        {
            // Subscribe before the first read, so no change falls between the snapshot and the messages.
            subscription = await Ended(SubscribeAsync(state, token), ct, disposed).ConfigureAwait(false);
            if (subscription is null)
            {
                yield break;
            }

            state.RequestResync("initial snapshot");
            while (true)
            {
                var batch = await Ended(NextBatchAsync(state, token), ct, disposed).ConfigureAwait(false);
                if (batch is null)
                {
                    yield break;
                }

                foreach (var e in batch)
                {
                    yield return e;
                }
            }
        }
        finally
        {
            Client.ConnectionRestored -= OnRestored;
            if (subscription is not null)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The task's result, or null when it ended because the registry was disposed.</summary>
    private static async Task<T?> Ended<T>(Task<T> task, CancellationToken ct, CancellationToken disposed)
        where T : class
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && disposed.IsCancellationRequested)
        {
            return null;
        }
        catch (ObjectDisposedException) when (disposed.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Subscribes, retrying with backoff while the server is unreachable (a watch never gives up by itself).</summary>
    private async Task<IAsyncDisposable> SubscribeAsync(State state, CancellationToken token)
    {
        while (true)
        {
            try
            {
                var sub = await Client.SubscribeAsync(Channel, m => state.Enqueue(m), token).ConfigureAwait(false);
                state.RetryDelay = FirstRetryDelay;
                return sub;
            }
            catch (RegistryException ex)
            {
                await BackOffAsync(state, ex, token).ConfigureAwait(false);
            }
        }
    }

    private async Task BackOffAsync(State state, RegistryException ex, CancellationToken token)
    {
        RedisLog.WatchReadFailed(Logger, Channel, state.RetryDelay.TotalMilliseconds, ex);
        await Task.Delay(state.RetryDelay, token).ConfigureAwait(false);
        state.RetryDelay = TimeSpan.FromTicks(Math.Min(state.RetryDelay.Ticks * 2, MaxRetryDelay.Ticks));
    }

    private async Task<List<TEvent>> NextBatchAsync(State state, CancellationToken token)
    {
        while (true)
        {
            token.ThrowIfCancellationRequested();
            if (Interlocked.Exchange(ref state.Overflowed, 0) != 0)
            {
                state.RequestResync("inbox overflow");
            }

            if (state.ResyncReason is { } reason)
            {
                try
                {
                    var (rev, snapshot) = await ReadSnapshot(token).ConfigureAwait(false);
                    state.LastRevision = rev;
                    state.PendingRevision = null;
                    state.ResyncReason = null;
                    state.RetryDelay = FirstRetryDelay;
                    state.NextPoll = Stopwatch.GetTimestamp() + ToTicks(PollInterval);
                    if (state.Started)
                    {
                        RedisLog.WatchResynced(Logger, Channel, reason, rev);
                    }
                    else
                    {
                        state.Started = true;
                        RedisLog.WatchStarted(Logger, Channel, rev);
                    }

                    return [snapshot];
                }
                catch (RegistryException ex)
                {
                    await BackOffAsync(state, ex, token).ConfigureAwait(false);
                    continue;
                }
            }

            var events = new List<TEvent>();
            while (state.ResyncReason is null && state.Inbox.Reader.TryRead(out var item))
            {
                Apply(state, item, events);
            }

            if (events.Count > 0)
            {
                return events;
            }

            if (state.ResyncReason is not null)
            {
                continue;
            }

            var wait = state.NextPoll - Stopwatch.GetTimestamp();
            if (wait <= 0)
            {
                await PollOnceAsync(state, token).ConfigureAwait(false);
                state.NextPoll = Stopwatch.GetTimestamp() + ToTicks(PollInterval);
                continue;
            }

            using var waitCts = CancellationTokenSource.CreateLinkedTokenSource(token);
            waitCts.CancelAfter(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency));
            try
            {
                await state.Inbox.Reader.WaitToReadAsync(waitCts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                // poll time
            }
        }
    }

    private void Apply(State state, string? text, List<TEvent> events)
    {
        if (text is null)
        {
            state.RequestResync("connection restored");
            return;
        }

        WatchMessage m;
        try
        {
            m = WatchMessage.Parse(text);
        }
        catch (FormatException ex)
        {
            RedisLog.WatchBadMessage(Logger, Channel, text.Length > 200 ? text[..200] : text, ex);
            state.RequestResync("undecodable message");
            return;
        }

        if (m.Revision <= state.LastRevision)
        {
            return; // already contained in the latest snapshot
        }

        if (m.Revision != state.LastRevision + 1)
        {
            state.RequestResync($"missed revisions {state.LastRevision + 1}..{m.Revision - 1}");
            return;
        }

        state.LastRevision = m.Revision;
        TEvent? e;
        try
        {
            e = Decode(m);
        }
        catch (RegistryException ex)
        {
            RedisLog.WatchBadMessage(Logger, Channel, m.Kind + " " + m.Id, ex);
            state.RequestResync("undecodable document");
            return;
        }

        if (e is null)
        {
            state.RequestResync("bulk change");
            return;
        }

        events.Add(e);
    }

    private async Task PollOnceAsync(State state, CancellationToken token)
    {
        long rev;
        try
        {
            rev = await Poll(token).ConfigureAwait(false);
        }
        catch (RegistryException ex)
        {
            // Messages published while the server was unreachable are lost: re-read once it answers again.
            RedisLog.WatchReadFailed(Logger, Channel, state.RetryDelay.TotalMilliseconds, ex);
            state.RequestResync("server unreachable");
            return;
        }

        if (rev < state.LastRevision)
        {
            state.RequestResync($"server revision {rev} behind {state.LastRevision} (restart or flush)");
        }
        else if (rev == state.LastRevision)
        {
            state.PendingRevision = null;
        }
        else if (state.PendingRevision is { } p && state.LastRevision < p)
        {
            state.RequestResync($"notifications up to revision {p} never arrived");
        }
        else
        {
            state.PendingRevision = rev;
        }
    }

    private static long ToTicks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

    private sealed class State(Channel<string?> inbox)
    {
        public Channel<string?> Inbox { get; } = inbox;

        public int Overflowed;

        public long LastRevision { get; set; }

        public long? PendingRevision { get; set; }

        public string? ResyncReason { get; set; }

        public long NextPoll { get; set; }

        public bool Started { get; set; }

        public TimeSpan RetryDelay { get; set; } = FirstRetryDelay;

        public void Enqueue(string? message)
        {
            if (!Inbox.Writer.TryWrite(message))
            {
                Interlocked.Exchange(ref Overflowed, 1);
            }
        }

        public void RequestResync(string reason) => ResyncReason ??= reason;
    }
}
