using System.Runtime.CompilerServices;
using DistributedCron.Registry.ZooKeeper.Client;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.ZooKeeper;

/// <summary>A watched layout directory: its path and whether its children's data matters (and is watched).</summary>
internal sealed record ZkWatchedDirectory(string Path, bool ReadData);

/// <summary>A child znode as last read.</summary>
internal sealed record ZkEntry(byte[]? Data, ZkStat? Stat);

/// <summary>What a <see cref="ZkDirectoryWatch"/> reports.</summary>
internal abstract record ZkDirectoryChange
{
    /// <summary>The complete contents of every directory; replaces the view.</summary>
    public sealed record Snapshot(IReadOnlyList<IReadOnlyDictionary<string, ZkEntry>> Directories) : ZkDirectoryChange;

    /// <summary>A child appeared or its data changed.</summary>
    public sealed record Upsert(int Directory, string Name, ZkEntry Entry) : ZkDirectoryChange;

    /// <summary>A child disappeared.</summary>
    public sealed record Remove(int Directory, string Name) : ZkDirectoryChange;
}

/// <summary>
/// Watches the children of some directories (and, where asked, each child's data) with ZooKeeper's one-shot
/// watches: every notification re-reads what it concerns with the watch set again and reports the difference from
/// the last view; a new connection (whose server holds none of the old watches) or a failed read re-reads
/// everything and reports a snapshot.
/// </summary>
internal sealed partial class ZkDirectoryWatch
{
    private static readonly ZkEntry NoData = new(null, null);
    private readonly IZkClient _client;
    private readonly IReadOnlyList<ZkWatchedDirectory> _dirs;
    private readonly Func<CancellationToken, Task> _ensureLayout;
    private readonly Action _invalidateLayout;
    private readonly TimeSpan _maxDelay;
    private readonly ILogger _logger;
    private readonly Signals _signals = new();

    public ZkDirectoryWatch(IZkClient client, IReadOnlyList<ZkWatchedDirectory> dirs, Func<CancellationToken, Task> ensureLayout,
        Action invalidateLayout, TimeSpan maxDelay, ILogger logger)
    {
        _client = client;
        _dirs = dirs;
        _ensureLayout = ensureLayout;
        _invalidateLayout = invalidateLayout;
        _maxDelay = maxDelay;
        _logger = logger;
    }

    public async IAsyncEnumerable<ZkDirectoryChange> RunAsync([EnumeratorCancellation] CancellationToken ct)
    {
        _client.WatchTriggered += OnWatch;
        _client.SessionStateChanged += OnSession;
        try
        {
            var views = _dirs.Select(_ => new Dictionary<string, ZkEntry>(StringComparer.Ordinal)).ToArray();
            var needFull = true;
            var delay = TimeSpan.FromMilliseconds(100);
            long generation = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var changes = new List<ZkDirectoryChange>();
                Exception? failure = null;
                try
                {
                    if (needFull)
                    {
                        await _ensureLayout(ct).ConfigureAwait(false);
                        await _client.ConnectAsync(ct).ConfigureAwait(false);
                        var before = _client.ConnectionGeneration;
                        _signals.Clear();
                        var read = new Dictionary<string, ZkEntry>[_dirs.Count];
                        for (var i = 0; i < _dirs.Count; i++)
                        {
                            read[i] = await ReadAllAsync(_dirs[i], ct).ConfigureAwait(false);
                        }

                        if (_client.ConnectionGeneration != before)
                        {
                            continue; // some watches may sit on a closed connection: read again
                        }

                        generation = before;
                        views = read;
                        needFull = false;
                        delay = TimeSpan.FromMilliseconds(100);
                        changes.Add(new ZkDirectoryChange.Snapshot(views));
                    }
                    else
                    {
                        var (resetGeneration, batch) = await _signals.TakeAsync(ct).ConfigureAwait(false);
                        if (resetGeneration > generation)
                        {
                            needFull = true;
                            continue;
                        }

                        foreach (var s in batch)
                        {
                            await ProcessAsync(s, views[s.Directory], changes, ct).ConfigureAwait(false);
                        }
                    }
                }
                catch (Exception ex) when (!ct.IsCancellationRequested && ex is RegistryException)
                {
                    failure = ex;
                }

                if (failure is not null)
                {
                    Log.ReadFailed(_logger, string.Join(",", _dirs.Select(d => d.Path)), delay.TotalMilliseconds, failure.Message);
                    needFull = true;
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _maxDelay.Ticks));
                    continue;
                }

                foreach (var c in changes)
                {
                    yield return c;
                }
            }
        }
        finally
        {
            _client.WatchTriggered -= OnWatch;
            _client.SessionStateChanged -= OnSession;
        }
    }

    private async Task<Dictionary<string, ZkEntry>> ReadAllAsync(ZkWatchedDirectory dir, CancellationToken ct)
    {
        var names = await ChildrenAsync(dir, ct).ConfigureAwait(false);
        var view = new Dictionary<string, ZkEntry>(StringComparer.Ordinal);
        foreach (var (name, entry) in await ReadEntriesAsync(dir, names, ct).ConfigureAwait(false))
        {
            view[name] = entry;
        }

        return view;
    }

    private async Task ProcessAsync(Signal s, Dictionary<string, ZkEntry> view, List<ZkDirectoryChange> changes, CancellationToken ct)
    {
        var dir = _dirs[s.Directory];
        if (s.Name is null)
        {
            var names = await ChildrenAsync(dir, ct).ConfigureAwait(false);
            var present = new HashSet<string>(names, StringComparer.Ordinal);
            foreach (var gone in view.Keys.Where(k => !present.Contains(k)).ToArray())
            {
                view.Remove(gone);
                changes.Add(new ZkDirectoryChange.Remove(s.Directory, gone));
            }

            var added = names.Where(n => !view.ContainsKey(n)).ToArray();
            foreach (var (name, entry) in await ReadEntriesAsync(dir, added, ct).ConfigureAwait(false))
            {
                view[name] = entry;
                changes.Add(new ZkDirectoryChange.Upsert(s.Directory, name, entry));
            }

            return;
        }

        if (!view.TryGetValue(s.Name, out var old))
        {
            return; // not (or no longer) a child we know: the child watch reports it
        }

        var got = await _client.GetDataAsync(dir.Path + "/" + s.Name, true, ct).ConfigureAwait(false);
        if (got is not { } e)
        {
            view.Remove(s.Name);
            changes.Add(new ZkDirectoryChange.Remove(s.Directory, s.Name));
        }
        else if (old.Stat is null || e.Stat.Mzxid != old.Stat.Mzxid || e.Stat.Czxid != old.Stat.Czxid)
        {
            var entry = new ZkEntry(e.Data, e.Stat);
            view[s.Name] = entry;
            changes.Add(new ZkDirectoryChange.Upsert(s.Directory, s.Name, entry));
        }
    }

    private async Task<IReadOnlyList<string>> ChildrenAsync(ZkWatchedDirectory dir, CancellationToken ct)
    {
        var names = await _client.GetChildrenAsync(dir.Path, true, ct).ConfigureAwait(false);
        if (names is null)
        {
            _invalidateLayout();
            throw new RegistryException($"The registry directory '{dir.Path}' does not exist (deleted from outside?); recreating it.");
        }

        return names;
    }

    /// <summary>Reads (and watches) the data of <paramref name="names"/> in parallel; children deleted meanwhile are left out.</summary>
    private async Task<List<(string Name, ZkEntry Entry)>> ReadEntriesAsync(ZkWatchedDirectory dir, IReadOnlyList<string> names, CancellationToken ct)
    {
        if (!dir.ReadData)
        {
            return names.Select(n => (n, NoData)).ToList();
        }

        var reads = names.Select(n => _client.GetDataAsync(dir.Path + "/" + n, true, ct)).ToArray();
        await Task.WhenAll(reads).ConfigureAwait(false);
        var result = new List<(string, ZkEntry)>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            if (reads[i].Result is { } e)
            {
                result.Add((names[i], new ZkEntry(e.Data, e.Stat)));
            }
        }

        return result;
    }

    private void OnWatch(ZkWatchEvent e)
    {
        for (var i = 0; i < _dirs.Count; i++)
        {
            var dir = _dirs[i];
            if (e.Path == dir.Path)
            {
                _signals.Add(new Signal(i, null));
            }
            else if (dir.ReadData && e.Path.Length > dir.Path.Length + 1 && e.Path.StartsWith(dir.Path, StringComparison.Ordinal)
                     && e.Path[dir.Path.Length] == '/' && e.Path.IndexOf('/', dir.Path.Length + 1) < 0)
            {
                _signals.Add(new Signal(i, e.Path[(dir.Path.Length + 1)..]));
            }
        }
    }

    private void OnSession(ZkSessionState state)
    {
        if (state is ZkSessionState.Connected or ZkSessionState.Reconnected)
        {
            _signals.Reset(_client.ConnectionGeneration);
        }
    }

    /// <summary>A directory's children changed (Name null) or one child's data changed.</summary>
    private readonly record struct Signal(int Directory, string? Name);

    /// <summary>Pending signals, coalesced (each at most once, in order of first arrival), plus the newest connection generation.</summary>
    private sealed class Signals
    {
        private readonly object _gate = new();
        private readonly List<Signal> _order = new();
        private readonly HashSet<Signal> _set = new();
        private long _resetGeneration;
        private TaskCompletionSource? _waiter;

        public void Add(Signal s)
        {
            lock (_gate)
            {
                if (_set.Add(s))
                {
                    _order.Add(s);
                }

                Wake();
            }
        }

        public void Reset(long generation)
        {
            lock (_gate)
            {
                _resetGeneration = Math.Max(_resetGeneration, generation);
                Wake();
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _order.Clear();
                _set.Clear();
                _resetGeneration = 0;
            }
        }

        public async Task<(long ResetGeneration, List<Signal> Batch)> TakeAsync(CancellationToken ct)
        {
            while (true)
            {
                Task wait;
                lock (_gate)
                {
                    if (_order.Count > 0 || _resetGeneration > 0)
                    {
                        var batch = _order.ToList();
                        var reset = _resetGeneration;
                        _order.Clear();
                        _set.Clear();
                        _resetGeneration = 0;
                        return (reset, batch);
                    }

                    _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _waiter.Task;
                }

                await wait.WaitAsync(ct).ConfigureAwait(false);
            }
        }

        private void Wake()
        {
            var w = _waiter;
            _waiter = null;
            w?.TrySetResult();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4130, Level = LogLevel.Warning, Message = "ZooKeeper watch of {Paths}: reading failed, re-reading everything in {DelayMs} ms: {Reason}")]
        public static partial void ReadFailed(ILogger logger, string paths, double delayMs, string reason);
    }
}
