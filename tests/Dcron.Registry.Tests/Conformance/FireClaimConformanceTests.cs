using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>conformance.md cases 18–26: the monotonic claim, fencing tokens, outcomes and bounded storage.</summary>
public abstract class FireClaimConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    [Fact]
    public async Task Case18_The_first_claim_is_granted_with_a_token_and_the_state_records_the_occurrence_and_owner()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        Assert.Null(await r.GetFireStateAsync("job", Ct));

        var claim = await r.CanRunTaskAsync("job", T0, "node-1", Ct);
        Assert.True(claim.Granted);
        Assert.True(claim.FencingToken > 0, $"token {claim.FencingToken}");
        Assert.Equal(("job", "node-1"), (claim.TaskName, claim.NodeId));
        Assert.Equal(T0, claim.ScheduledAt);

        var state = await (await NewRegistryAsync(ns)).GetFireStateAsync("job", Ct);
        Assert.NotNull(state);
        Assert.Equal("job", state.TaskName);
        Assert.Equal(T0, state.LastScheduledAt);
        Assert.Equal(TimeSpan.Zero, state.LastScheduledAt.Offset);
        Assert.Equal(claim.FencingToken, state.FencingToken);
        Assert.Equal("node-1", state.Owner);
        Assert.Null(state.LastOutcome);
        Assert.True(state.IsRunning);
    }

    [Fact]
    public async Task Case19_A_second_claim_of_the_same_occurrence_is_refused_whoever_asks()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var other = await NewRegistryAsync(ns);
        var first = await r.CanRunTaskAsync("job", T0, "node-1", Ct);
        Assert.True(first.Granted);

        foreach (var (client, node) in new[] { (r, "node-1"), (r, "node-2"), (other, "node-1"), (other, "node-3") })
        {
            var again = await client.CanRunTaskAsync("job", T0, node, Ct);
            Assert.False(again.Granted, $"{node} claimed the same occurrence again");
            Assert.Equal(0, again.FencingToken);
            Assert.Equal(T0, again.LastScheduledAt);
            Assert.Equal("node-1", again.CurrentOwner);
        }

        var state = await r.GetFireStateAsync("job", Ct);
        Assert.Equal((T0, first.FencingToken, "node-1"), (state!.LastScheduledAt, state.FencingToken, state.Owner));
    }

    [Fact]
    public async Task Case20_After_T_is_claimed_an_earlier_occurrence_is_refused()
    {
        var r = await NewRegistryAsync(NewNamespace());
        var first = await r.CanRunTaskAsync("job", T0, "node-1", Ct);
        Assert.True(first.Granted);
        foreach (var earlier in new[] { T0.AddMilliseconds(-1), T0.AddSeconds(-1), T0.AddDays(-400), DateTimeOffset.UnixEpoch })
        {
            var c = await r.CanRunTaskAsync("job", earlier, "node-2", Ct);
            Assert.False(c.Granted, $"claim for {earlier:O} after {T0:O}");
            Assert.Equal(T0, c.LastScheduledAt);
        }

        var state = await r.GetFireStateAsync("job", Ct);
        Assert.Equal((T0, first.FencingToken, "node-1"), (state!.LastScheduledAt, state.FencingToken, state.Owner));
    }

    [Fact]
    public async Task Case21_A_later_occurrence_is_granted_with_a_strictly_greater_token()
    {
        var r = await NewRegistryAsync(NewNamespace());
        var last = 0L;
        var at = T0;
        for (var i = 0; i < 20; i++)
        {
            at = at.AddMilliseconds(i % 2 == 0 ? 1 : 60_000); // the smallest step counts as later, and large ones
            var node = $"node-{i % 3}";
            var c = await r.CanRunTaskAsync("job", at, node, Ct);
            Assert.True(c.Granted, $"claim {i} at {at:O}");
            Assert.True(c.FencingToken > last, $"token {c.FencingToken} after {last}");
            last = c.FencingToken;
            var state = await r.GetFireStateAsync("job", Ct);
            Assert.Equal((at, c.FencingToken, node), (state!.LastScheduledAt, state.FencingToken, state.Owner));
        }
    }

    [Fact]
    public async Task Case22_Of_16_parallel_claimers_on_separate_clients_exactly_one_wins_100_times()
    {
        var ns = NewNamespace();
        var clients = new IRegistry[16];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = await NewRegistryAsync(ns);
        }

        var lastToken = 0L;
        for (var round = 0; round < 100; round++)
        {
            var at = T0.AddSeconds(round);
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var claims = clients.Select((c, i) => Task.Run(async () =>
            {
                await go.Task;
                return await c.CanRunTaskAsync("contended", at, $"node-{i:D2}", Ct);
            })).ToArray();
            go.SetResult();
            var results = await Task.WhenAll(claims);

            var winner = Assert.Single(results, c => c.Granted);
            Assert.True(winner.FencingToken > lastToken, $"round {round}: token {winner.FencingToken} after {lastToken}");
            lastToken = winner.FencingToken;
            Assert.All(results.Where(c => !c.Granted), c => Assert.Equal(at, c.LastScheduledAt));
            var state = await clients[round % 16].GetFireStateAsync("contended", Ct);
            Assert.Equal((at, winner.NodeId, winner.FencingToken), (state!.LastScheduledAt, state.Owner, state.FencingToken));
        }
    }

    [Fact]
    public async Task Case23_Parallel_claims_over_200_tasks_give_exactly_one_winner_per_task()
    {
        var ns = NewNamespace();
        var clients = new IRegistry[4];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = await NewRegistryAsync(ns);
        }

        var tasks = Enumerable.Range(0, 200).Select(i => $"many-{i:D3}").ToArray();
        var results = await Task.WhenAll(clients.SelectMany((c, i) => tasks.Select(t => Task.Run(() => c.CanRunTaskAsync(t, T0, $"node-{i}", Ct)))));

        var states = await clients[0].GetFireStatesAsync(Ct);
        Assert.Equal(200, states.Count);
        foreach (var group in results.GroupBy(c => c.TaskName))
        {
            var winner = Assert.Single(group, c => c.Granted);
            Assert.Equal(clients.Length, group.Count());
            Assert.Equal(winner.NodeId, states[group.Key].Owner);
            Assert.Equal(winner.FencingToken, states[group.Key].FencingToken);
        }
    }

    [Fact]
    public async Task Case24_The_same_instant_with_different_offsets_is_the_same_occurrence()
    {
        var r = await NewRegistryAsync(NewNamespace());
        var warsaw = T0.ToOffset(TimeSpan.FromHours(2));
        Assert.True((await r.CanRunTaskAsync("job", warsaw, "node-1", Ct)).Granted);
        foreach (var same in new[] { T0, T0.ToOffset(TimeSpan.FromHours(-5)), T0.ToOffset(TimeSpan.FromMinutes(345)) })
        {
            Assert.False((await r.CanRunTaskAsync("job", same, "node-2", Ct)).Granted, $"{same:O} is {warsaw:O}");
        }

        var state = await r.GetFireStateAsync("job", Ct);
        Assert.Equal(T0, state!.LastScheduledAt);
        Assert.Equal(TimeSpan.Zero, state.LastScheduledAt.Offset);

        // Millisecond precision: a fraction of the same millisecond is the same occurrence; the next one is later.
        Assert.False((await r.CanRunTaskAsync("job", T0.AddTicks(TimeSpan.TicksPerMillisecond / 2), "node-2", Ct)).Granted);
        Assert.True((await r.CanRunTaskAsync("job", T0.AddMilliseconds(1).ToOffset(TimeSpan.FromHours(9)), "node-2", Ct)).Granted);
        Assert.Equal(T0.AddMilliseconds(1), (await r.GetFireStateAsync("job", Ct))!.LastScheduledAt);
    }

    [Fact]
    public async Task Case25_CompleteFire_records_the_outcome_of_the_latest_claim_only()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var c1 = await r.CanRunTaskAsync("job", T0, "node-1", Ct);
        var failed = new FireOutcome
        {
            Status = FireStatus.Failed,
            StartedAt = T0.AddMilliseconds(3),
            Duration = TimeSpan.FromMilliseconds(1234.5),
            Error = "InvalidOperationException: \"quoted\" — ünïcode\nsecond line",
            Attempts = 3,
        };
        await r.CompleteFireAsync(c1, failed, Ct);

        var reader = await NewRegistryAsync(ns);
        var state = await reader.GetFireStateAsync("job", Ct);
        Assert.Equal(failed with { FencingToken = c1.FencingToken }, state!.LastOutcome);
        Assert.False(state.IsRunning);
        Assert.Equal(state, (await reader.GetFireStatesAsync(Ct))["job"]);

        // A new claim is running; the previous outcome stays the latest completed one.
        var c2 = await r.CanRunTaskAsync("job", T0.AddMinutes(1), "node-2", Ct);
        state = await reader.GetFireStateAsync("job", Ct);
        Assert.True(state!.IsRunning);
        Assert.Equal(c1.FencingToken, state.LastOutcome!.FencingToken);

        // A superseded claim's outcome is ignored.
        var c3 = await r.CanRunTaskAsync("job", T0.AddMinutes(2), "node-3", Ct);
        await r.CompleteFireAsync(c2, new FireOutcome { Status = FireStatus.Succeeded, StartedAt = T0.AddMinutes(1) }, Ct);
        state = await reader.GetFireStateAsync("job", Ct);
        Assert.Equal(c1.FencingToken, state!.LastOutcome!.FencingToken);
        Assert.Equal(FireStatus.Failed, state.LastOutcome.Status);
        Assert.True(state.IsRunning);

        var ok = new FireOutcome { Status = FireStatus.Succeeded, StartedAt = T0.AddMinutes(2).AddMilliseconds(1), Duration = TimeSpan.FromSeconds(2) };
        await r.CompleteFireAsync(c3, ok, Ct);
        state = await reader.GetFireStateAsync("job", Ct);
        Assert.Equal(ok with { FencingToken = c3.FencingToken }, state!.LastOutcome);
        Assert.Equal(("node-3", c3.FencingToken), (state.Owner, state.FencingToken));
        Assert.False(state.IsRunning);

        foreach (var status in Enum.GetValues<FireStatus>())
        {
            var c = await r.CanRunTaskAsync("statuses", T0.AddMinutes((int)status), "node-1", Ct);
            await r.CompleteFireAsync(c, new FireOutcome { Status = status }, Ct);
            Assert.Equal(status, (await reader.GetFireStateAsync("statuses", Ct))!.LastOutcome!.Status);
        }

        Assert.Equal(["job", "statuses"], (await reader.GetFireStatesAsync(Ct)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Case26_Ten_thousand_successive_claims_leave_one_record_for_the_task()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        await r.CompleteFireAsync(await r.CanRunTaskAsync("busy", T0, "node-1", Ct), new FireOutcome { Status = FireStatus.Succeeded }, Ct);
        var baseline = await Scope.CountServerRecordsAsync(ns, Ct);
        Assert.True(baseline >= 1, $"the fire state is counted: {baseline}");

        var last = 0L;
        for (var i = 1; i <= Target.BoundedStorageClaims; i++)
        {
            var c = await r.CanRunTaskAsync("busy", T0.AddSeconds(i), $"node-{i % 5}", Ct);
            Assert.True(c.Granted);
            Assert.True(c.FencingToken > last);
            last = c.FencingToken;
            if (i % 100 == 0)
            {
                await r.CompleteFireAsync(c, new FireOutcome { Status = FireStatus.Succeeded }, Ct);
            }
        }

        Assert.Equal(baseline, await Scope.CountServerRecordsAsync(ns, Ct));
        var states = await r.GetFireStatesAsync(Ct);
        Assert.Equal(T0.AddSeconds(Target.BoundedStorageClaims), Assert.Single(states).Value.LastScheduledAt);
    }
}
