namespace DistributedCron.Testing.Consul.State;

/// <summary>A session as the emulator stores it.</summary>
public sealed class SessionRecord
{
    /// <summary>The session id (a UUID).</summary>
    public required string ID { get; init; }

    /// <summary>The free-text name.</summary>
    public string Name { get; init; } = "";

    /// <summary>The node the session belongs to.</summary>
    public required string Node { get; init; }

    /// <summary>The lock-delay applied to its keys when it is invalidated.</summary>
    public TimeSpan LockDelay { get; init; }

    /// <summary><c>release</c> or <c>delete</c>.</summary>
    public required string Behavior { get; init; }

    /// <summary>The TTL as given ("" when none).</summary>
    public string TTL { get; init; } = "";

    /// <summary>The parsed TTL (null when none).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>The node checks that must stay healthy.</summary>
    public IReadOnlyList<string> NodeChecks { get; init; } = [];

    /// <summary>The index that created it.</summary>
    public ulong CreateIndex { get; init; }

    /// <summary>The same as <see cref="CreateIndex"/> (renewals are not Raft writes).</summary>
    public ulong ModifyIndex { get; init; }

    /// <summary>When the leader's timer invalidates it (last renewal + TTL × multiplier).</summary>
    public DateTimeOffset? Deadline { get; internal set; }

    internal ITimer? Timer { get; set; }
}

/// <summary>What a session create asks for (parsed from the JSON body).</summary>
public sealed record SessionSpec(string? Name, string? Node, TimeSpan LockDelay, string? Behavior, string? Ttl, IReadOnlyList<string>? NodeChecks, int ServiceChecks);

/// <summary>Sessions: create, renew, destroy, info, list, and TTL expiry on the injected clock.</summary>
public sealed partial class ConsulState
{
    private readonly Dictionary<string, SessionRecord> _sessions = new(StringComparer.Ordinal);
    private ulong _sessionsTableIndex;

    /// <summary>How many sessions exist.</summary>
    public int SessionCount
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>One session, or null.</summary>
    public SessionRecord? Session(string id)
    {
        lock (_gate)
        {
            return _sessions.GetValueOrDefault(id);
        }
    }

    /// <summary>The names of every session.</summary>
    public IReadOnlyList<string> SessionNames()
    {
        lock (_gate)
        {
            return _sessions.Values.Select(s => s.Name).ToArray();
        }
    }

    /// <summary>The sessions table's index (create and destroy move it; renew does not).</summary>
    internal ulong SessionsIndex() => Math.Max(_sessionsTableIndex, 1);

    internal IReadOnlyList<SessionRecord> Sessions() => _sessions.Values.OrderBy(s => s.CreateIndex).ToArray();

    internal SessionRecord? FindSession(string id) => _sessions.GetValueOrDefault(id);

    /// <summary>Creates a session, or returns the error text Consul answers with HTTP 500.</summary>
    internal (SessionRecord? Session, string? Error) CreateSession(SessionSpec spec) => Write<(SessionRecord?, string?)>(b =>
    {
        var node = string.IsNullOrEmpty(spec.Node) ? _options.NodeName : spec.Node;
        if (node != _options.NodeName)
        {
            return (null, "Missing node registration");
        }

        var behavior = string.IsNullOrEmpty(spec.Behavior) ? "release" : spec.Behavior;
        if (behavior is not ("release" or "delete"))
        {
            return (null, $"Invalid Behavior setting '{behavior}'");
        }

        TimeSpan? ttl = null;
        if (!string.IsNullOrEmpty(spec.Ttl))
        {
            if (!GoDuration.TryParse(spec.Ttl, out var parsed))
            {
                return (null, $"Session TTL '{spec.Ttl}' invalid: time: invalid duration \"{spec.Ttl}\"");
            }

            if (parsed != TimeSpan.Zero)
            {
                var max = TimeSpan.FromHours(24);
                if (parsed < _options.SessionTtlMin || parsed > max)
                {
                    return (null, $"Invalid Session TTL '{GoDuration.Nanoseconds(parsed)}', must be between [{GoDuration.Format(_options.SessionTtlMin)}={GoDuration.Format(max)}]");
                }

                ttl = parsed;
            }
        }

        var checks = spec.NodeChecks ?? ["serfHealth"];
        if (checks.FirstOrDefault(c => c != "serfHealth") is { } unknown)
        {
            return (null, $"Missing check '{unknown}' registration");
        }

        if (spec.ServiceChecks > 0)
        {
            return (null, "Service checks are not modeled by the emulator");
        }

        var s = new SessionRecord
        {
            ID = Guid.NewGuid().ToString(),
            Name = spec.Name ?? "",
            Node = node,
            LockDelay = spec.LockDelay,
            Behavior = behavior,
            TTL = ttl is null ? "" : spec.Ttl!,
            Ttl = ttl,
            NodeChecks = checks.ToArray(),
            CreateIndex = b.Index,
            ModifyIndex = b.Index,
        };
        _sessions[s.ID] = s;
        _sessionsTableIndex = b.Index;
        b.Wrote = true;
        if (ttl is { } t)
        {
            var period = Period(t);
            s.Deadline = _time.GetUtcNow() + period;
            s.Timer = _time.CreateTimer(OnSessionTimer, s.ID, period, Timeout.InfiniteTimeSpan);
        }

        return (s, null);
    });

    /// <summary>Renews a session (resets its timer; no index moves); null when it does not exist.</summary>
    internal SessionRecord? RenewSession(string id) => Read(() =>
    {
        if (!_sessions.TryGetValue(id, out var s))
        {
            return null;
        }

        if (s.Ttl is { } t)
        {
            var period = Period(t);
            s.Deadline = _time.GetUtcNow() + period;
            s.Timer?.Change(period, Timeout.InfiniteTimeSpan);
        }

        return s;
    });

    /// <summary>Destroys a session (idempotent): the same invalidation as an expiry.</summary>
    internal void DestroySession(string id) => Write(b =>
    {
        if (_sessions.TryGetValue(id, out var s))
        {
            Invalidate(b, s);
        }

        return true;
    });

    /// <summary>Invalidates every session now, as if all had expired (tests of expiry without waiting).</summary>
    public void ExpireAllSessions() => Write(b =>
    {
        foreach (var s in _sessions.Values.ToArray())
        {
            Invalidate(b, s);
        }

        return true;
    });

    /// <summary>Stops every session timer without invalidating anything (the emulator is going away).</summary>
    public void StopSessionTimers()
    {
        lock (_gate)
        {
            foreach (var s in _sessions.Values)
            {
                s.Timer?.Dispose();
                s.Timer = null;
            }
        }
    }

    private TimeSpan Period(TimeSpan ttl) => TimeSpan.FromTicks((long)(ttl.Ticks * _options.SessionTtlMultiplier));

    private void OnSessionTimer(object? state)
    {
        var id = (string)state!;
        Write(b =>
        {
            if (!_sessions.TryGetValue(id, out var s) || s.Deadline is not { } deadline)
            {
                return false;
            }

            var now = _time.GetUtcNow();
            if (now < deadline)
            {
                s.Timer?.Change(deadline - now, Timeout.InfiniteTimeSpan); // renewed meanwhile
                return false;
            }

            Invalidate(b, s);
            return true;
        });
    }

    /// <summary>
    /// Consul's <c>deleteSessionTxn</c>: every key the session holds is deleted (Behavior delete, with tombstones) or
    /// released (Session cleared, ModifyIndex moved, Value and LockIndex kept), all at one index; each gets the
    /// session's lock-delay (at most 60 s).
    /// </summary>
    private void Invalidate(Batch b, SessionRecord s)
    {
        foreach (var e in _kv.Values.Where(e => e.Session == s.ID).ToArray())
        {
            if (s.Behavior == "delete")
            {
                Remove(b, e.Key);
            }
            else
            {
                Store(b, e with { Session = null, ModifyIndex = b.Index });
            }

            SetLockDelay(e.Key, s.LockDelay);
        }

        s.Timer?.Dispose();
        s.Timer = null;
        _sessions.Remove(s.ID);
        _sessionsTableIndex = b.Index;
        b.Wrote = true;
    }
}
