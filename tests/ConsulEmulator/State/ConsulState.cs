namespace DistributedCron.Testing.Consul.State;

/// <summary>One KV entry (Consul's <c>DirEntry</c>). Immutable: every write stores a new record.</summary>
public sealed record KvRecord(string Key, byte[]? Value, ulong Flags, ulong CreateIndex, ulong ModifyIndex, ulong LockIndex, string? Session);

/// <summary>
/// The emulated server state: one global Raft-like index, the KV store with tombstones, sessions, lock-delays, and
/// the change signal blocking queries wait on. Every method takes the one lock; writes made under one
/// <see cref="Batch"/> share one index, and a batch that wrote nothing consumes no index.
/// </summary>
public sealed partial class ConsulState
{
    private readonly object _gate = new();
    private readonly ConsulEmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, KvRecord> _kv = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _tombstones = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _tombKeys = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, ulong Index, DateTimeOffset At)> _tombQueue = new();
    private readonly Dictionary<string, DateTimeOffset> _lockDelays = new(StringComparer.Ordinal);
    private ulong _index;
    private ulong _kvTableIndex;
    private TaskCompletionSource _changed = NewSignal();
    private int _blocked;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _requests = new(StringComparer.Ordinal);

    /// <summary>Creates an empty state.</summary>
    public ConsulState(ConsulEmulatorOptions options)
    {
        _options = options;
        _time = options.TimeProvider;
        _index = options.InitialIndex;
    }

    /// <summary>Fault injection for client tests.</summary>
    public EmulatorFaults Faults { get; } = new();

    /// <summary>The options.</summary>
    public ConsulEmulatorOptions Options => _options;

    /// <summary>The clock.</summary>
    public TimeProvider Time => _time;

    /// <summary>The latest index handed out.</summary>
    public ulong Index
    {
        get
        {
            lock (_gate)
            {
                return _index;
            }
        }
    }

    /// <summary>How many blocking queries are waiting right now (tests wait for it before advancing a fake clock).</summary>
    public int BlockedQueries => Volatile.Read(ref _blocked);

    /// <summary>How many requests reached a path starting with <paramref name="pathPrefix"/> (the watch rate-limit test counts them).</summary>
    public long Requests(string pathPrefix) => _requests.Where(r => r.Key.StartsWith(pathPrefix, StringComparison.Ordinal)).Sum(r => r.Value);

    internal void CountRequest(string path) => _requests.AddOrUpdate(path, 1, (_, n) => n + 1);

    /// <summary>How many keys are stored.</summary>
    public int KeyCount
    {
        get
        {
            lock (_gate)
            {
                return _kv.Count;
            }
        }
    }

    /// <summary>One entry, or null.</summary>
    public KvRecord? Get(string key)
    {
        lock (_gate)
        {
            return _kv.GetValueOrDefault(key);
        }
    }

    /// <summary>The entries under a prefix, in key order.</summary>
    public IReadOnlyList<KvRecord> List(string prefix)
    {
        lock (_gate)
        {
            return Range(_keys, prefix).Select(k => _kv[k]).ToArray();
        }
    }

    /// <summary>Removes every tombstone now (as Consul's reaper does after the tombstone TTL), so prefix indexes can go backwards.</summary>
    public void ReapTombstones()
    {
        lock (_gate)
        {
            _tombstones.Clear();
            _tombKeys.Clear();
            _tombQueue.Clear();
        }
    }

    /// <summary>Loses every key, tombstone and session and starts the index again (a datacenter rebuilt from nothing).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            foreach (var s in _sessions.Values)
            {
                s.Timer?.Dispose();
            }

            _sessions.Clear();
            _kv.Clear();
            _keys.Clear();
            _lockDelays.Clear();
            _index = _options.InitialIndex;
            _kvTableIndex = 0;
            _sessionsTableIndex = 0;
            _tombstones.Clear();
            _tombKeys.Clear();
            _tombQueue.Clear();
            Signal();
        }
    }

    /// <summary>
    /// Waits like Consul's blocking query: returns <paramref name="read"/>'s result at once when
    /// <paramref name="minIndex"/> is 0 or its index is already above it, else when a write makes it so, else
    /// after <paramref name="wait"/> with whatever it is then (the index may be unchanged).
    /// </summary>
    public async Task<(T Result, ulong Index)> BlockAsync<T>(ulong minIndex, TimeSpan wait, Func<(T Result, ulong Index)> read, CancellationToken ct)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task? timeout = null;
        while (true)
        {
            Task changed;
            (T Result, ulong Index) r;
            lock (_gate)
            {
                ReapTombstonesLocked(all: false);
                r = read();
                changed = _changed.Task;
            }

            if (minIndex == 0 || r.Index > minIndex)
            {
                return r;
            }

            timeout ??= Task.Delay(wait, _time, timer.Token);
            Task done;
            Interlocked.Increment(ref _blocked);
            try
            {
                done = await Task.WhenAny(changed, timeout).WaitAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _blocked);
            }

            if (done == timeout)
            {
                lock (_gate)
                {
                    return read();
                }
            }
        }
    }

    /// <summary>Runs one write under the lock; the batch's index is consumed only if something was written.</summary>
    internal T Write<T>(Func<Batch, T> write)
    {
        lock (_gate)
        {
            ReapTombstonesLocked(all: false);
            var batch = new Batch(this, _index + 1);
            var result = write(batch);
            if (batch.Wrote)
            {
                _index = batch.Index;
                Signal();
            }

            return result;
        }
    }

    /// <summary>Runs <paramref name="read"/> under the lock.</summary>
    internal T Read<T>(Func<T> read)
    {
        lock (_gate)
        {
            ReapTombstonesLocked(all: false);
            return read();
        }
    }

    // ---- index rules (call under the lock) ----

    /// <summary>The KV store's index: the last write to the kvs/tombstones tables, at least 1.</summary>
    internal ulong StoreIndex() => Math.Max(_kvTableIndex, 1);

    /// <summary>A single key: its ModifyIndex; missing: the store's index.</summary>
    internal ulong KeyIndex(string key) => _kv.TryGetValue(key, out var e) ? e.ModifyIndex : StoreIndex();

    /// <summary>A prefix: the highest ModifyIndex of live keys and tombstones under it, else the store's index.</summary>
    internal ulong PrefixIndex(string prefix)
    {
        if (prefix.Length == 0)
        {
            return StoreIndex();
        }

        ulong max = 0;
        foreach (var k in Range(_keys, prefix))
        {
            max = Math.Max(max, _kv[k].ModifyIndex);
        }

        foreach (var k in Range(_tombKeys, prefix))
        {
            max = Math.Max(max, _tombstones[k]);
        }

        return max > 0 ? max : StoreIndex();
    }

    internal KvRecord? Entry(string key) => _kv.GetValueOrDefault(key);

    internal IEnumerable<KvRecord> EntriesUnder(string prefix) => Range(_keys, prefix).Select(k => _kv[k]).ToArray();

    internal bool InLockDelay(string key)
    {
        if (!_lockDelays.TryGetValue(key, out var until))
        {
            return false;
        }

        if (_time.GetUtcNow() < until)
        {
            return true;
        }

        _lockDelays.Remove(key);
        return false;
    }

    // ---- mutations (call under the lock, inside a batch) ----

    internal void Store(Batch b, KvRecord record)
    {
        var key = record.Key;
        var previous = _kv.GetValueOrDefault(key);
        var previousTable = _kvTableIndex;
        _kv[key] = record;
        _keys.Add(key);
        _kvTableIndex = b.Index;
        b.Wrote = true;
        b.OnUndo(() =>
        {
            _kvTableIndex = previousTable;
            if (previous is null)
            {
                _kv.Remove(key);
                _keys.Remove(key);
            }
            else
            {
                _kv[key] = previous;
            }
        });
    }

    internal bool Remove(Batch b, string key)
    {
        if (!_kv.Remove(key, out var previous))
        {
            return false;
        }

        _keys.Remove(key);
        var previousTable = _kvTableIndex;
        var previousTomb = _tombstones.TryGetValue(key, out var t) ? t : (ulong?)null;
        AddTombstone(key, b.Index);
        _kvTableIndex = b.Index;
        b.Wrote = true;
        b.OnUndo(() =>
        {
            _kv[key] = previous;
            _keys.Add(key);
            _kvTableIndex = previousTable;
            RestoreTombstone(key, previousTomb);
        });
        return true;
    }

    internal int RemoveTree(Batch b, string prefix)
    {
        var keys = Range(_keys, prefix).ToArray();
        if (keys.Length == 0)
        {
            return 0;
        }

        var removed = keys.Select(k => _kv[k]).ToArray();
        var previousTable = _kvTableIndex;
        foreach (var k in keys)
        {
            _kv.Remove(k);
            _keys.Remove(k);
        }

        // One tombstone for the whole tree, at the prefix itself (none for the empty prefix).
        ulong? previousTomb = null;
        if (prefix.Length > 0)
        {
            previousTomb = _tombstones.TryGetValue(prefix, out var t) ? t : null;
            AddTombstone(prefix, b.Index);
        }

        _kvTableIndex = b.Index;
        b.Wrote = true;
        b.OnUndo(() =>
        {
            foreach (var r in removed)
            {
                _kv[r.Key] = r;
                _keys.Add(r.Key);
            }

            _kvTableIndex = previousTable;
            if (prefix.Length > 0)
            {
                RestoreTombstone(prefix, previousTomb);
            }
        });
        return keys.Length;
    }

    internal void SetLockDelay(string key, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
        {
            _lockDelays[key] = _time.GetUtcNow() + (delay > TimeSpan.FromSeconds(60) ? TimeSpan.FromSeconds(60) : delay);
        }
    }

    private static IEnumerable<string> Range(SortedSet<string> set, string prefix)
    {
        if (set.Count == 0)
        {
            return [];
        }

        if (prefix.Length == 0)
        {
            return set;
        }

        return set.GetViewBetween(prefix, prefix + char.MaxValue).Where(k => k.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Signal()
    {
        var fired = _changed;
        _changed = NewSignal();
        fired.TrySetResult();
    }

    private void AddTombstone(string key, ulong index)
    {
        _tombstones[key] = index;
        _tombKeys.Add(key);
        _tombQueue.Enqueue((key, index, _time.GetUtcNow()));
    }

    private void RestoreTombstone(string key, ulong? index)
    {
        if (index is { } i)
        {
            _tombstones[key] = i;
            _tombKeys.Add(key);
        }
        else
        {
            _tombstones.Remove(key);
            _tombKeys.Remove(key);
        }
    }

    private void ReapTombstonesLocked(bool all)
    {
        var cutoff = _time.GetUtcNow() - _options.TombstoneTtl;
        while (_tombQueue.TryPeek(out var t) && (all || t.At <= cutoff))
        {
            _tombQueue.Dequeue();
            if (_tombstones.TryGetValue(t.Key, out var i) && i == t.Index)
            {
                _tombstones.Remove(t.Key);
                _tombKeys.Remove(t.Key);
            }
        }
    }

    /// <summary>The writes of one request (or one transaction): one index, and an undo log for a rollback.</summary>
    internal sealed class Batch(ConsulState state, ulong index)
    {
        private readonly List<Action> _undo = new();

        public ConsulState State { get; } = state;

        public ulong Index { get; } = index;

        public bool Wrote { get; set; }

        public void OnUndo(Action undo) => _undo.Add(undo);

        public void Rollback()
        {
            for (var i = _undo.Count - 1; i >= 0; i--)
            {
                _undo[i]();
            }

            _undo.Clear();
            Wrote = false;
        }
    }
}
