using DistributedCron.Registry.ZooKeeper.Client;

namespace DistributedCron.Registry.ZooKeeper;

public sealed partial class ZooKeeperRegistry
{
    /// <inheritdoc />
    /// <remarks>
    /// Reads <c>fires/{task}</c> with its version, decides in the client, and writes the new state with
    /// <c>setData(version)</c> (or <c>create</c> for a first claim); a concurrent writer makes that fail with
    /// BADVERSION (or NODEEXISTS) and the claim is decided again on fresh data, so exactly one of N concurrent
    /// claimers of an occurrence is granted. <paramref name="scheduledAt"/> is truncated to whole milliseconds in UTC.
    /// </remarks>
    /// <exception cref="ArgumentException">The task name or node id is illegal.</exception>
    public Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        ValidateNodeId(nodeId, nameof(nodeId));
        var at = ToClaimInstant(scheduledAt);
        var path = _paths.Fire(task);
        return RunAsync(async c =>
        {
            while (true)
            {
                var got = await _client.GetDataAsync(path, false, c).ConfigureAwait(false);
                if (got is not { } current)
                {
                    var first = new TaskFireState { TaskName = task, LastScheduledAt = at, FencingToken = 1, Owner = nodeId };
                    try
                    {
                        await _client.CreateAsync(path, Utf8(RegistryJson.Serialize(first)), _acl, ZkCreateMode.Persistent, c).ConfigureAwait(false);
                        return Granted(first);
                    }
                    catch (ZkErrorException ex) when (ex.Code == ZkError.NodeExists)
                    {
                        continue;
                    }
                    catch (ZkErrorException ex) when (ex.Code == ZkError.NoNode)
                    {
                        throw new LayoutMissingException(_paths.Fires);
                    }
                }

                var state = RegistryJson.Deserialize<TaskFireState>(Utf8(current.Data));
                if (at <= state.LastScheduledAt)
                {
                    return new FireClaim
                    {
                        Granted = false,
                        TaskName = task,
                        ScheduledAt = at,
                        NodeId = nodeId,
                        LastScheduledAt = state.LastScheduledAt,
                        CurrentOwner = state.Owner,
                    };
                }

                var next = state with { LastScheduledAt = at, FencingToken = state.FencingToken + 1, Owner = nodeId };
                try
                {
                    await _client.SetDataAsync(path, Utf8(RegistryJson.Serialize(next)), current.Stat.Version, c).ConfigureAwait(false);
                    return Granted(next);
                }
                catch (ZkErrorException ex) when (ex.Code is ZkError.BadVersion or ZkError.NoNode)
                {
                    // another claimer (or a cleanup) came first: decide again on fresh data
                }
            }
        }, ct);

        FireClaim Granted(TaskFireState s) =>
            new() { Granted = true, TaskName = task, ScheduledAt = at, NodeId = nodeId, FencingToken = s.FencingToken };
    }

    /// <inheritdoc />
    /// <remarks>A versioned <c>setData</c> that applies only while the fire state's token is the claim's.</remarks>
    /// <exception cref="ArgumentException">The claim was not granted, or its task name is illegal.</exception>
    public Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(outcome);
        DcronLimits.ValidateTaskName(claim.TaskName, nameof(claim));
        if (!claim.Granted)
        {
            throw new ArgumentException($"The claim of '{claim.TaskName}' at {claim.ScheduledAt:O} was refused; only a granted claim has an outcome.", nameof(claim));
        }

        var path = _paths.Fire(claim.TaskName);
        return RunAsync(async c =>
        {
            while (true)
            {
                var got = await _client.GetDataAsync(path, false, c).ConfigureAwait(false);
                if (got is not { } current)
                {
                    return;
                }

                var state = RegistryJson.Deserialize<TaskFireState>(Utf8(current.Data));
                if (state.FencingToken != claim.FencingToken)
                {
                    return;
                }

                var next = state with { LastOutcome = outcome with { FencingToken = claim.FencingToken } };
                try
                {
                    await _client.SetDataAsync(path, Utf8(RegistryJson.Serialize(next)), current.Stat.Version, c).ConfigureAwait(false);
                    return;
                }
                catch (ZkErrorException ex) when (ex.Code is ZkError.BadVersion or ZkError.NoNode)
                {
                    // changed meanwhile: check the token again
                }
            }
        }, ct);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        return RunAsync(async c =>
        {
            var got = await _client.GetDataAsync(_paths.Fire(task), false, c).ConfigureAwait(false);
            return got is { } e ? RegistryJson.Deserialize<TaskFireState>(Utf8(e.Data)) : null;
        }, ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default) =>
        RunAsync<IReadOnlyDictionary<string, TaskFireState>>(async c =>
        {
            var entries = await ReadDirectoryAsync(_paths.Fires, watch: false, c).ConfigureAwait(false);
            var states = new Dictionary<string, TaskFireState>(StringComparer.Ordinal);
            foreach (var (name, e) in entries)
            {
                states[name] = RegistryJson.Deserialize<TaskFireState>(Utf8(e.Data));
            }

            return states;
        }, ct);

    /// <summary>The instant a claim is keyed on: UTC, truncated to whole milliseconds.</summary>
    private static DateTimeOffset ToClaimInstant(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }
}
