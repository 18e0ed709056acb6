namespace DistributedCron;

/// <summary>
/// Misfire catch-up. When the node gains a task, and on each sweep, it compares the task's fire state with the
/// occurrences that should have fired before the timer took over (<see cref="TaskRuntime.TimerStart"/>): those within
/// the grace run per policy (FireOnce: latest only, the others coalesced; FireAll: each in order; Skip: none), each
/// through the same claim; older ones are counted missed. A task with no fire state is initialised instead (claimed
/// once as <see cref="FireStatus.Skipped"/>, not run), so a new task never fires for an occurrence from before it
/// existed, while a gap right after it appeared is caught up by whoever owns it next. Counts of occurrences that are
/// not run are tied to a granted claim, so one node counts them.
/// </summary>
/// <remarks>
/// The sweep first filters the owned tasks locally and reads only what it needs. With a fire state, a task needs a
/// catch-up when <c>Next(Max(state.LastScheduledAt, HighWater))</c> is before <c>TimerStart</c> and not after now;
/// occurrences are monotone, so <c>Next(HighWater)</c> passing the same test is necessary (and it needs
/// <c>HighWater &lt; TimerStart</c>, which is checked first, without computing an occurrence; a high-water mark found to
/// have no occurrence before <c>TimerStart</c> is remembered, so it is not computed again). The only other case is
/// a task with no fire state (it is initialised); it is covered by <see cref="TaskRuntime.StateSeen"/>: a task whose
/// state this node has not seen under its current schedule is always a candidate. No candidate: no registry call.
/// Up to <see cref="PerTaskReadLimit"/> candidates: each reads its own fire state. More: one read of all fire
/// states, evaluated over every owned task as before the filter existed. A fire state erased behind this node's
/// back (cleanup of a static task by a peer) while it has seen one is no longer re-initialised by the sweep; the
/// timer's next claim writes a state again.
/// </remarks>
internal sealed class CatchUp(Engine engine)
{
    /// <summary>Up to this many catch-ups read their fire states one by one; more read all fire states in one call.</summary>
    internal const int PerTaskReadLimit = 64;

    private const int MaxExpired = 100_000;
    private const int MaxInGrace = 10_000;
    private const int MaxEvents = 1_000;

    /// <summary>
    /// Starts catch-ups whose lane places were reserved. Without <paramref name="knownStates"/>, a few read their own
    /// fire states, and more than <see cref="PerTaskReadLimit"/> read all of them in one call.
    /// </summary>
    public void Dispatch(List<CatchUpItem> items, IReadOnlyDictionary<string, TaskFireState>? knownStates)
    {
        if (knownStates is not null || items.Count <= PerTaskReadLimit)
        {
            foreach (var item in items)
            {
                var known = knownStates is not null;
                var state = knownStates?.GetValueOrDefault(item.Definition.Name);

                // States read before the items were made may predate a restart of the schedule: they prove nothing.
                engine.Track(() => RunOneAsync(item, known, state, fresh: false), "catch-up");
            }

            return;
        }

        engine.Track(async () =>
        {
            IReadOnlyDictionary<string, TaskFireState>? states = null;
            try
            {
                states = await engine.Registry.GetFireStatesAsync(engine.DispatchStop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !engine.DispatchStop.IsCancellationRequested)
            {
                // Each task then reads its own state; a failure there is left to the next sweep.
                Log.CatchUpFailed(engine.Logger, $"({items.Count} tasks)", ex);
            }
            catch (OperationCanceledException)
            {
                Release(items);
                return;
            }

            foreach (var item in items)
            {
                var known = states is not null;
                var state = states?.GetValueOrDefault(item.Definition.Name);

                // Read after the items' generations were taken: a state seen here is one of the current schedule.
                engine.Track(() => RunOneAsync(item, known, state, fresh: true), "catch-up");
            }
        }, "catch-up batch");
    }

    /// <summary>The periodic sweep over every owned task; see the remarks of <see cref="CatchUp"/>.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        if (!engine.Accepting || engine.OwnedCount == 0)
        {
            return;
        }

        var candidates = new List<(TaskRuntime Runtime, long Generation)>();
        List<CatchUpItem>? few = null;
        lock (engine.Gate)
        {
            var now = engine.Time.GetUtcNow();
            foreach (var rt in engine.OwnedRuntimes())
            {
                if (!rt.CatchUpPending && rt.Definition is { } def && MayNeed(rt, def, now))
                {
                    candidates.Add((rt, rt.Generation));
                }
            }

            if (candidates.Count == 0)
            {
                return;
            }

            if (candidates.Count <= PerTaskReadLimit)
            {
                few = new List<CatchUpItem>(candidates.Count);
                foreach (var (rt, generation) in candidates)
                {
                    rt.CatchUpPending = true;
                    few.Add(new CatchUpItem(rt.Definition!, rt, generation, rt.Lane.Reserve()));
                }
            }
        }

        if (few is not null)
        {
            Dispatch(few, knownStates: null);
            return;
        }

        IReadOnlyDictionary<string, TaskFireState> states;
        try
        {
            states = await engine.Registry.GetFireStatesAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.CatchUpFailed(engine.Logger, "(sweep)", ex);
            return;
        }

        var items = new List<CatchUpItem>();
        lock (engine.Gate)
        {
            // Only candidates' generations were taken before the read: only they may learn that their state exists.
            foreach (var (rt, generation) in candidates)
            {
                if (rt.Generation == generation && states.ContainsKey(rt.Name))
                {
                    engine.Fires.NoteStateSeen(rt, generation);
                }
            }

            var now = engine.Time.GetUtcNow();
            foreach (var rt in engine.OwnedRuntimes())
            {
                if (rt.CatchUpPending || rt.Definition is not { } def)
                {
                    continue;
                }

                var needs = true;
                if (states.TryGetValue(rt.Name, out var st))
                {
                    var first = def.Next(Engine.Max(st.LastScheduledAt, rt.HighWater), inclusive: false);
                    needs = first is { } f && f < rt.TimerStart && f <= now;
                }
                else
                {
                    rt.StateSeen = false;
                }

                if (needs)
                {
                    rt.CatchUpPending = true;
                    items.Add(new CatchUpItem(def, rt, rt.Generation, rt.Lane.Reserve()));
                }
            }
        }

        if (items.Count > 0)
        {
            Dispatch(items, states);
        }
    }

    /// <summary>
    /// False only when no fire state can make the task need a catch-up: a state is known to exist, and even without
    /// the registry's <c>LastScheduledAt</c> no occurrence after the high-water mark is due before the timer's first.
    /// Caller holds the gate.
    /// </summary>
    private static bool MayNeed(TaskRuntime rt, TaskDefinition def, DateTimeOffset now)
    {
        if (!rt.StateSeen)
        {
            return true;
        }

        // Next(HighWater) > HighWater, so HighWater >= TimerStart (the steady state) rules a catch-up out at once.
        if (rt.HighWater >= rt.TimerStart || rt.HighWater >= now || rt.SweepClearedTicks == rt.HighWater.UtcTicks)
        {
            return false;
        }

        var f = def.Next(rt.HighWater, inclusive: false);
        if (f is not { } first || first >= rt.TimerStart)
        {
            // Independent of now: it holds until the high-water mark moves or the schedule restarts (which resets it).
            rt.SweepClearedTicks = rt.HighWater.UtcTicks;
            return false;
        }

        return first <= now;
    }

    private void Release(List<CatchUpItem> items)
    {
        foreach (var item in items)
        {
            item.Ticket.Release();
            lock (engine.Gate)
            {
                item.Runtime.CatchUpPending = false;
            }
        }
    }

    /// <summary>One catch-up; <paramref name="fresh"/>: a known state was read after the item's generation was taken.</summary>
    private async Task RunOneAsync(CatchUpItem item, bool stateKnown, TaskFireState? state, bool fresh)
    {
        var (def, rt, generation, ticket) = item;
        var ct = engine.DispatchStop.Token;
        try
        {
            await ticket.WaitAsync().ConfigureAwait(false);
            lock (engine.Gate)
            {
                if (engine.Current(rt, generation) is null)
                {
                    return;
                }
            }

            if (!stateKnown)
            {
                state = await engine.Registry.GetFireStateAsync(def.Name, ct).ConfigureAwait(false);
                fresh = true;
            }

            if (state is not null && fresh)
            {
                lock (engine.Gate)
                {
                    engine.Fires.NoteStateSeen(rt, generation);
                }
            }

            if (state is null)
            {
                await InitialiseAsync(def, rt, generation).ConfigureAwait(false);
            }
            else
            {
                await RunMissedAsync(def, rt, generation, state).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: the occurrences stay unclaimed, so the peers catch them up.
        }
        catch (Exception ex)
        {
            Log.CatchUpFailed(engine.Logger, def.Name, ex);
        }
        finally
        {
            ticket.Release();
            lock (engine.Gate)
            {
                rt.CatchUpPending = false;
            }
        }
    }

    private async Task InitialiseAsync(TaskDefinition def, TaskRuntime rt, long generation)
    {
        DateTimeOffset at;
        lock (engine.Gate)
        {
            // Just before the first occurrence the timer handles, never after now; instants are compared in ms.
            var now = engine.Time.GetUtcNow();
            at = rt.TimerStart == DateTimeOffset.MaxValue || now < rt.TimerStart - TimeSpan.FromMilliseconds(1)
                ? now
                : rt.TimerStart - TimeSpan.FromMilliseconds(1);
            at = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
            if (at <= rt.HighWater)
            {
                return;
            }
        }

        if (await engine.Fires.ClaimMarkerAsync(def, rt, generation, at, "initial fire state of a new task: not run").ConfigureAwait(false))
        {
            Log.TaskInitialised(engine.Logger, def.Name, engine.NodeId, at);
        }
    }

    private async Task RunMissedAsync(TaskDefinition def, TaskRuntime rt, long generation, TaskFireState state)
    {
        DateTimeOffset from, limit, now;
        lock (engine.Gate)
        {
            now = engine.Time.GetUtcNow();
            from = Engine.Max(state.LastScheduledAt, rt.HighWater);
            limit = rt.TimerStart;
        }

        var graceStart = now - def.Grace;
        var expired = 0L;
        DateTimeOffset? lastExpired = null;
        var expiredTimes = new List<DateTimeOffset>();
        for (var t = def.Next(from, inclusive: false); t is { } x && x < graceStart && x < limit && x <= now && expired < MaxExpired; t = def.Next(x, inclusive: false))
        {
            expired++;
            lastExpired = x;
            if (expiredTimes.Count < MaxEvents)
            {
                expiredTimes.Add(x);
            }
        }

        var inGrace = new List<DateTimeOffset>();
        var start = from < graceStart ? def.Next(graceStart, inclusive: true) : def.Next(from, inclusive: false);
        for (var t = start; t is { } x && x < limit && x <= now && inGrace.Count < MaxInGrace; t = def.Next(x, inclusive: false))
        {
            inGrace.Add(x);
        }

        if (expired == 0 && inGrace.Count == 0)
        {
            return;
        }

        var runs = def.Policy switch
        {
            MisfirePolicy.FireAll => inGrace,
            MisfirePolicy.FireOnce when inGrace.Count > 0 => [inGrace[^1]],
            _ => new List<DateTimeOffset>(),
        };
        var coalesced = def.Policy == MisfirePolicy.FireOnce && inGrace.Count > 1 ? inGrace.GetRange(0, inGrace.Count - 1) : [];
        var skipped = def.Policy == MisfirePolicy.Skip ? inGrace : [];
        Log.CatchingUp(engine.Logger, def.Name, runs.Count, from, coalesced.Count, skipped.Count, expired);

        if (runs.Count == 0)
        {
            var marker = inGrace.Count > 0 ? inGrace[^1] : lastExpired!.Value;
            if (await engine.Fires.ClaimMarkerAsync(def, rt, generation, marker, "passed over by the misfire catch-up").ConfigureAwait(false))
            {
                Account(def, expired, lastExpired, expiredTimes, coalesced, skipped);
            }

            return;
        }

        var accounted = false;
        foreach (var at in runs)
        {
            var r = await engine.Fires.ClaimAsync(def, rt, generation, at).ConfigureAwait(false);
            if (r.Kind == ClaimKind.Abandoned)
            {
                break;
            }

            if (r.Kind == ClaimKind.Granted)
            {
                if (!accounted)
                {
                    accounted = true;
                    Account(def, expired, lastExpired, expiredTimes, coalesced, skipped);
                }

                var claim = r.Claim!;
                engine.Track(() => engine.Fires.RunAsync(def, rt, claim, catchUp: true), "catch-up run");
            }
            else
            {
                await engine.Fires.SettleAsync(def, rt, at, r, catchUp: true).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Counts and reports the occurrences a granted catch-up passed over.</summary>
    private void Account(TaskDefinition def, long expired, DateTimeOffset? lastExpired, List<DateTimeOffset> expiredTimes,
        List<DateTimeOffset> coalesced, List<DateTimeOffset> skipped)
    {
        if (expired > 0)
        {
            var why = expired >= MaxExpired
                ? $"at least {expired} occurrences older than the misfire grace ({def.Grace})"
                : $"older than the misfire grace ({def.Grace}) when found";
            Log.FireMissed(engine.Logger, expired, def.Name, lastExpired!.Value, why);
            foreach (var at in expiredTimes)
            {
                engine.Fires.Report(def.Name, at, FireResult.Missed, catchUp: true, error: why);
            }

            if (expired > expiredTimes.Count)
            {
                engine.Metrics.Fire(FireResult.Missed, catchUp: true, expired - expiredTimes.Count);
            }
        }

        foreach (var at in coalesced)
        {
            engine.Fires.Report(def.Name, at, FireResult.Coalesced, catchUp: true);
        }

        foreach (var at in skipped)
        {
            engine.Fires.Report(def.Name, at, FireResult.Skipped, catchUp: true, error: "misfire policy Skip");
        }
    }
}
