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
internal sealed class CatchUp(Engine engine)
{
    private const int MaxExpired = 100_000;
    private const int MaxInGrace = 10_000;
    private const int MaxEvents = 1_000;

    /// <summary>Starts catch-ups whose lane places were reserved; with many, the fire states are read in one call.</summary>
    public void Dispatch(List<CatchUpItem> items, IReadOnlyDictionary<string, TaskFireState>? knownStates)
    {
        if (knownStates is not null || items.Count == 1)
        {
            foreach (var item in items)
            {
                var known = knownStates is not null;
                var state = knownStates?.GetValueOrDefault(item.Definition.Name);
                engine.Track(() => RunOneAsync(item, known, state), "catch-up");
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
                engine.Track(() => RunOneAsync(item, known, state), "catch-up");
            }
        }, "catch-up batch");
    }

    /// <summary>The periodic sweep over every owned task.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        if (!engine.Accepting || engine.OwnedCount == 0)
        {
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

    private async Task RunOneAsync(CatchUpItem item, bool stateKnown, TaskFireState? state)
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
