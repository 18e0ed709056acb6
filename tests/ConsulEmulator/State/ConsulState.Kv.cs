namespace DistributedCron.Testing.Consul.State;

/// <summary>The KV verbs, shared by the HTTP endpoints and /v1/txn (call under the lock, inside a batch).</summary>
public sealed partial class ConsulState
{
    /// <summary>
    /// A plain set: always succeeds. An existing key keeps its CreateIndex and Session; LockIndex takes the request's
    /// (0), as in Consul's <c>kvsSetTxn</c>. A write that changes nothing (same Value, Flags, Session, LockIndex)
    /// consumes no index and wakes nobody (Consul 1.6+, PR 5885).
    /// </summary>
    internal bool KvSet(Batch b, string key, byte[]? value, ulong flags)
    {
        value = Normalize(value);
        var existing = Entry(key);
        var next = new KvRecord(key, value, flags, existing?.CreateIndex ?? b.Index, b.Index, 0, existing?.Session);
        if (existing is not null && SameContent(existing, next))
        {
            return true;
        }

        Store(b, next);
        return true;
    }

    /// <summary><c>?cas=</c>: 0 writes only if the key is absent; N only if it exists with ModifyIndex N.</summary>
    internal bool KvCas(Batch b, string key, byte[]? value, ulong flags, ulong index)
    {
        var existing = Entry(key);
        if (index == 0 ? existing is not null : existing is null || existing.ModifyIndex != index)
        {
            return false;
        }

        return KvSet(b, key, value, flags);
    }

    /// <summary>
    /// <c>?acquire=</c>: the lock-delay is checked first (false, even for an invalid session), then the session
    /// (error <c>invalid session "id"</c>), then the holder: a new holder increments LockIndex, the current holder
    /// only updates Value and Flags, another holder gets false.
    /// </summary>
    internal LockResult KvLock(Batch b, string key, byte[]? value, ulong flags, string? session)
    {
        if (string.IsNullOrEmpty(session))
        {
            return LockResult.Fail("missing session");
        }

        if (InLockDelay(key))
        {
            return LockResult.Delayed;
        }

        if (!_sessions.ContainsKey(session))
        {
            return LockResult.Fail($"invalid session \"{session}\"");
        }

        value = Normalize(value);
        var existing = Entry(key);
        if (existing is null)
        {
            Store(b, new KvRecord(key, value, flags, b.Index, b.Index, 1, session));
            return LockResult.Ok;
        }

        if (existing.Session == session)
        {
            var same = existing with { Value = value, Flags = flags };
            if (!SameContent(existing, same))
            {
                Store(b, same with { ModifyIndex = b.Index });
            }

            return LockResult.Ok;
        }

        if (existing.Session is not null)
        {
            return LockResult.Held;
        }

        Store(b, existing with { Value = value, Flags = flags, Session = session, LockIndex = existing.LockIndex + 1, ModifyIndex = b.Index });
        return LockResult.Ok;
    }

    /// <summary><c>?release=</c>: only the holder; clears Session, keeps LockIndex, and replaces Value and Flags with the request's.</summary>
    internal LockResult KvUnlock(Batch b, string key, byte[]? value, ulong flags, string? session)
    {
        if (string.IsNullOrEmpty(session))
        {
            return LockResult.Fail("missing session");
        }

        var existing = Entry(key);
        if (existing is null || existing.Session != session)
        {
            return LockResult.Held;
        }

        Store(b, existing with { Value = Normalize(value), Flags = flags, Session = null, ModifyIndex = b.Index });
        return LockResult.Ok;
    }

    /// <summary>A plain delete: true whether or not the key existed; a tombstone marks the delete's index.</summary>
    internal bool KvDelete(Batch b, string key)
    {
        Remove(b, key);
        return true;
    }

    /// <summary><c>?cas=</c> delete: only at that ModifyIndex; a key that is already gone counts as deleted (true).</summary>
    internal bool KvDeleteCas(Batch b, string key, ulong index)
    {
        var existing = Entry(key);
        if (existing is null)
        {
            return true;
        }

        if (existing.ModifyIndex != index)
        {
            return false;
        }

        Remove(b, key);
        return true;
    }

    /// <summary><c>?recurse</c> delete: every key with the prefix; one tombstone at the prefix.</summary>
    internal bool KvDeleteTree(Batch b, string prefix)
    {
        RemoveTree(b, prefix);
        return true;
    }

    private static byte[]? Normalize(byte[]? value) => value is { Length: > 0 } ? value : null;

    private static bool SameContent(KvRecord a, KvRecord b) =>
        a.Flags == b.Flags && a.LockIndex == b.LockIndex && a.Session == b.Session
        && (a.Value ?? []).AsSpan().SequenceEqual(b.Value ?? []);
}

/// <summary>The outcome of an acquire or release.</summary>
public readonly record struct LockResult(bool Succeeded, bool LockDelay, string? Error)
{
    /// <summary>Done.</summary>
    public static LockResult Ok => new(true, false, null);

    /// <summary>Held by another session (or, for a release, not held by this one).</summary>
    public static LockResult Held => new(false, false, null);

    /// <summary>The key's lock-delay is running.</summary>
    public static LockResult Delayed => new(false, true, null);

    /// <summary>An error Consul reports as HTTP 500.</summary>
    public static LockResult Fail(string error) => new(false, false, error);
}
