namespace DistributedCron.Testing.Consul.State;

/// <summary>One KV operation of a transaction.</summary>
public sealed record TxnOpSpec(string Verb, string Key, byte[]? Value, ulong Flags, ulong Index, string? Session);

/// <summary>One failed operation.</summary>
public sealed record TxnFailure(int OpIndex, string What);

/// <summary>The outcome of a transaction: results when it committed, failures when it rolled back.</summary>
public sealed record TxnOutcome(IReadOnlyList<KvRecord>? Results, IReadOnlyList<TxnFailure>? Errors);

/// <summary>/v1/txn: the KV verbs, applied in order at one index, all or nothing.</summary>
public sealed partial class ConsulState
{
    /// <summary>
    /// Runs the operations in order under one index; each sees the effects of the earlier ones. Every operation is
    /// evaluated, so every failure is reported; if any failed, everything is rolled back (no index consumed).
    /// <paramref name="denied"/> returns a "Permission denied" text for an operation the token may not do.
    /// </summary>
    internal TxnOutcome Transact(IReadOnlyList<TxnOpSpec> ops, Func<TxnOpSpec, string?> denied) => Write(b =>
    {
        var results = new List<KvRecord>();
        var errors = new List<TxnFailure>();
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            if (denied(op) is { } why)
            {
                errors.Add(new TxnFailure(i, why));
                continue;
            }

            var error = Apply(b, op, results);
            if (error is not null)
            {
                errors.Add(new TxnFailure(i, error));
            }
        }

        if (errors.Count > 0)
        {
            b.Rollback();
            return new TxnOutcome(null, errors);
        }

        // Written entries carry the transaction's index; their values are blanked in the results (except reads).
        return new TxnOutcome(results, null);
    });

    private string? Apply(Batch b, TxnOpSpec op, List<KvRecord> results)
    {
        var k = op.Key;
        switch (op.Verb)
        {
            case "set":
                KvSet(b, k, op.Value, op.Flags);
                results.Add(Blank(Entry(k)!));
                return null;
            case "cas":
                if (!KvCas(b, k, op.Value, op.Flags, op.Index))
                {
                    return $"failed to set key \"{k}\", index is stale";
                }

                results.Add(Blank(Entry(k)!));
                return null;
            case "lock":
            {
                var r = KvLock(b, k, op.Value, op.Flags, op.Session);
                if (r.Succeeded)
                {
                    results.Add(Blank(Entry(k)!));
                    return null;
                }

                return r.Error ?? (r.LockDelay ? $"failed to lock key \"{k}\" due to lock delay" : $"failed to lock key \"{k}\", lock is already held");
            }

            case "unlock":
            {
                var r = KvUnlock(b, k, op.Value, op.Flags, op.Session);
                if (r.Succeeded)
                {
                    results.Add(Blank(Entry(k)!));
                    return null;
                }

                return r.Error ?? $"failed to unlock key \"{k}\", lock isn't held, or is held by another session";
            }

            case "get":
                if (Entry(k) is not { } got)
                {
                    return $"key \"{k}\" doesn't exist";
                }

                results.Add(got);
                return null;
            case "get-tree":
                results.AddRange(EntriesUnder(k));
                return null;
            case "check-index":
                if (Entry(k) is not { } ci)
                {
                    return $"failed to check index, key \"{k}\" doesn't exist";
                }

                if (ci.ModifyIndex != op.Index)
                {
                    return $"failed index check for key \"{k}\", current modify index {ci.ModifyIndex} != {op.Index}";
                }

                results.Add(Blank(ci));
                return null;
            case "check-session":
                if (Entry(k) is not { } cs)
                {
                    return $"failed to check session, key \"{k}\" doesn't exist";
                }

                if (cs.Session != (string.IsNullOrEmpty(op.Session) ? null : op.Session))
                {
                    return $"failed session check for key \"{k}\", current session \"{cs.Session}\" != \"{op.Session}\"";
                }

                results.Add(Blank(cs));
                return null;
            case "check-not-exists":
                return Entry(k) is null ? null : $"key \"{k}\" exists";
            case "delete":
                KvDelete(b, k);
                return null;
            case "delete-tree":
                KvDeleteTree(b, k);
                return null;
            case "delete-cas":
                return KvDeleteCas(b, k, op.Index) ? null : $"failed to delete key \"{k}\", index is stale";
            default:
                return $"unknown KV verb \"{op.Verb}\"";
        }
    }

    private static KvRecord Blank(KvRecord e) => e with { Value = null };
}
