using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistributedCron.Registry.Etcd.Client;

namespace DistributedCron.Registry.Etcd;

public sealed partial class EtcdRegistry
{
    /// <summary>The extra member of a stored fire state naming the claim call that wrote it.</summary>
    private const string ClaimIdMember = "claim_id";

    /// <inheritdoc />
    /// <remarks>
    /// Writes the new state in a txn that compares the key's mod revision (or its absence) with the last state this
    /// instance knows of the task (its own previous write, usually: one round trip per claim); a failed compare returns
    /// the current state and the claim is re-evaluated against it. A claim is refused only on a state read from the
    /// server, never on the remembered one alone (which an erase elsewhere may have made stale). Each call
    /// stamps its write with a unique claim id, so when a write was applied but its answer lost (a member died
    /// mid-request and the client retried elsewhere), the retry recognises its own grant instead of refusing it.
    /// <paramref name="scheduledAt"/> is truncated to whole milliseconds in UTC.
    /// </remarks>
    /// <exception cref="ArgumentException">The task name or node id is illegal.</exception>
    public async Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        var at = ToClaimInstant(scheduledAt);
        var key = _keys.Fire(task);
        var claimId = Guid.NewGuid().ToString("N");
        var kv = _fireHints.GetValueOrDefault(task); // null: try as if absent; a failed compare returns the real state
        var fresh = false;
        while (true)
        {
            var (state, writtenBy) = kv is null ? (null, null) : DecodeFire(kv);
            if (state is not null && writtenBy == claimId)
            {
                return new FireClaim { Granted = true, TaskName = task, ScheduledAt = at, NodeId = nodeId, FencingToken = state.FencingToken };
            }

            if (state is not null && at <= state.LastScheduledAt)
            {
                if (!fresh)
                {
                    // Never refuse on a hint alone (the state may have been erased since): read the server.
                    kv = await GetKeyAsync(key, ct).ConfigureAwait(false);
                    fresh = true;
                    Remember(task, kv);
                    continue;
                }

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

            var token = (state?.FencingToken ?? 0) + 1;
            var next = new TaskFireState { TaskName = task, LastScheduledAt = at, FencingToken = token, Owner = nodeId, LastOutcome = state?.LastOutcome };
            var value = EncodeFire(next, claimId);
            var result = await _client.TxnAsync(new TxnRequest
            {
                Compare = [kv is null ? Compare.Absent(key) : Compare.ModifiedAt(key, kv.ModRevision)],
                Success = [RequestOp.Put(new PutRequest { Key = key, Value = value })],
                Failure = [RequestOp.Range(new RangeRequest { Key = key })],
            }, ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                Remember(task, new KeyValue { Key = key, Value = value, ModRevision = result.Header.Revision });
                return new FireClaim { Granted = true, TaskName = task, ScheduledAt = at, NodeId = nodeId, FencingToken = token };
            }

            kv = FirstKv(result);
            fresh = true;
            Remember(task, kv);
        }
    }

    /// <inheritdoc />
    /// <remarks>A compare-and-set of the fire state that applies only while its fencing token is the claim's (one round
    /// trip when this instance made the claim; an outcome is dropped as stale only on a state read from the server).</remarks>
    /// <exception cref="ArgumentException">The claim was not granted, or its task name is illegal.</exception>
    public async Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(outcome);
        DcronLimits.ValidateTaskName(claim.TaskName, nameof(claim));
        if (!claim.Granted)
        {
            throw new ArgumentException($"The claim of '{claim.TaskName}' at {claim.ScheduledAt:O} was refused; only a granted claim has an outcome.", nameof(claim));
        }

        ThrowIfDisposed();
        var task = claim.TaskName;
        var key = _keys.Fire(task);
        var kv = _fireHints.GetValueOrDefault(task);
        var fresh = false;
        while (true)
        {
            if (kv is null || (!fresh && DecodeFire(kv).State.FencingToken != claim.FencingToken))
            {
                if (fresh)
                {
                    return; // erased meanwhile: nothing to record
                }

                kv = await GetKeyAsync(key, ct).ConfigureAwait(false); // never drop an outcome on a hint alone
                fresh = true;
                Remember(task, kv);
                continue;
            }

            var (state, writtenBy) = DecodeFire(kv);
            if (state.FencingToken != claim.FencingToken)
            {
                return; // superseded by a later claim (or erased and claimed again): the outcome is stale
            }

            var value = EncodeFire(state with { LastOutcome = outcome with { FencingToken = claim.FencingToken } }, writtenBy);
            var result = await _client.TxnAsync(new TxnRequest
            {
                Compare = [Compare.ModifiedAt(key, kv.ModRevision)],
                Success = [RequestOp.Put(new PutRequest { Key = key, Value = value })],
                Failure = [RequestOp.Range(new RangeRequest { Key = key })],
            }, ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                Remember(task, new KeyValue { Key = key, Value = value, ModRevision = result.Header.Revision });
                return;
            }

            kv = FirstKv(result);
            fresh = true;
            Remember(task, kv);
            if (kv is null)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The task name is illegal.</exception>
    public async Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        ThrowIfDisposed();
        var kv = await GetKeyAsync(_keys.Fire(task), ct).ConfigureAwait(false);
        return kv is null ? null : DecodeFire(kv).State;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        var (kvs, _) = await RangePrefixAsync(_keys.FiresPrefix, keysOnly: false, ct).ConfigureAwait(false);
        var states = new Dictionary<string, TaskFireState>(StringComparer.Ordinal);
        foreach (var kv in kvs)
        {
            var state = DecodeFire(kv).State;
            states[state.TaskName] = state;
        }

        return states;
    }

    /// <summary>Keeps (or forgets, for null) the last known fire-state key of a task as the next call's first guess.</summary>
    private void Remember(string task, KeyValue? kv)
    {
        if (kv is null)
        {
            _fireHints.TryRemove(task, out _);
        }
        else
        {
            _fireHints[task] = kv;
        }
    }

    /// <summary>The instant a claim is keyed on: UTC, truncated to whole milliseconds.</summary>
    internal static DateTimeOffset ToClaimInstant(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    /// <summary>The shared <see cref="RegistryJson"/> document of the state, plus the id of the claim that wrote it.</summary>
    private static byte[] EncodeFire(TaskFireState state, string? claimId)
    {
        var doc = JsonNode.Parse(RegistryJson.Serialize(state))!.AsObject();
        if (claimId is not null)
        {
            doc[ClaimIdMember] = claimId;
        }

        return Encoding.UTF8.GetBytes(doc.ToJsonString());
    }

    private static (TaskFireState State, string? ClaimId) DecodeFire(KeyValue kv)
    {
        var json = Encoding.UTF8.GetString(kv.Value);
        var state = RegistryJson.Deserialize<TaskFireState>(json);
        string? claimId = null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.TryGetProperty(ClaimIdMember, out var id) && id.ValueKind == JsonValueKind.String)
            {
                claimId = id.GetString();
            }
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"The fire state of '{state.TaskName}' is not valid JSON.", ex);
        }

        return (state, claimId);
    }
}
