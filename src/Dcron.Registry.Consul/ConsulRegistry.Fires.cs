using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistributedCron.Registry.Consul.Client;

namespace DistributedCron.Registry.Consul;

public sealed partial class ConsulRegistry
{
    private const string ClaimIdField = "claim_id";

    /// <inheritdoc />
    /// <remarks>
    /// Reads the task's fire state (<c>{Namespace}/fires/{task}</c>) and, when <paramref name="scheduledAt"/> is later
    /// than its <c>LastScheduledAt</c>, writes the new state with <c>?cas=</c> the ModifyIndex it read (0 when there was
    /// none, which Consul reads as "create only"). Consul applies the write only if nobody wrote the key in between,
    /// so of any number of racing claimers exactly one succeeds; the others read again and are refused. The stored
    /// document carries a unique claim id, so when the write's answer is lost (timeout, dropped connection) one more
    /// read tells whether it was applied.
    /// </remarks>
    public async Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        ValidateNodeId(nodeId, nameof(nodeId));
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(scheduledAt.ToUnixTimeMilliseconds());
        var key = _keys.Fire(task);
        var claimId = Guid.NewGuid().ToString("N");
        while (true)
        {
            var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
            var state = entry is null ? null : DecodeFire(entry).State;
            if (state is not null && at <= state.LastScheduledAt)
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

            var next = new TaskFireState
            {
                TaskName = task,
                LastScheduledAt = at,
                FencingToken = (state?.FencingToken ?? 0) + 1,
                Owner = nodeId,
                LastOutcome = state?.LastOutcome,
            };
            var granted = new FireClaim { Granted = true, TaskName = task, ScheduledAt = at, NodeId = nodeId, FencingToken = next.FencingToken };
            bool written;
            try
            {
                written = await _client.PutAsync(key, EncodeFire(next, claimId), KvWrite.CheckAndSet(entry?.ModifyIndex ?? 0), ct).ConfigureAwait(false);
            }
            catch (RegistryUnavailableException)
            {
                if (await WasAppliedAsync(key, claimId, ct).ConfigureAwait(false))
                {
                    ConsulLog.ClaimRecovered(_logger, task, at, claimId);
                    return granted;
                }

                throw;
            }

            if (written)
            {
                return granted;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>A compare-and-set on the fire state that only applies while its fencing token is the claim's.</remarks>
    public async Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(outcome);
        DcronLimits.ValidateTaskName(claim.TaskName, nameof(claim));
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        if (!claim.Granted)
        {
            return; // a refused claim has no outcome to record
        }

        var key = _keys.Fire(claim.TaskName);
        while (true)
        {
            var entry = await _client.GetAsync(key, ct).ConfigureAwait(false);
            if (entry is null)
            {
                return; // cleaned up meanwhile
            }

            var (state, claimId) = DecodeFire(entry);
            if (state.FencingToken != claim.FencingToken)
            {
                return; // superseded by a later claim
            }

            var next = state with { LastOutcome = outcome with { FencingToken = claim.FencingToken } };
            if (await _client.PutAsync(key, EncodeFire(next, claimId), KvWrite.CheckAndSet(entry.ModifyIndex), ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public async Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var entry = await _client.GetAsync(_keys.Fire(task), ct).ConfigureAwait(false);
        return entry is null ? null : DecodeFire(entry).State;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default)
    {
        ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        var list = await _client.ListAsync(_keys.FiresPrefix, 0, null, ct).ConfigureAwait(false);
        var states = new Dictionary<string, TaskFireState>(StringComparer.Ordinal);
        foreach (var e in list.Entries)
        {
            if (ConsulKeys.Tail(e.Key, _keys.FiresPrefix) is { } name)
            {
                states[name] = DecodeFire(e).State;
            }
        }

        return states;
    }

    private async Task<bool> WasAppliedAsync(string key, string claimId, CancellationToken ct)
    {
        try
        {
            var after = await _client.GetAsync(key, ct).ConfigureAwait(false);
            return after is not null && DecodeFire(after).ClaimId == claimId;
        }
        catch (RegistryException)
        {
            return false; // still unreachable: report the original failure
        }
    }

    private static byte[] EncodeFire(TaskFireState state, string? claimId)
    {
        var doc = JsonSerializer.SerializeToNode(state, RegistryJson.Options)!.AsObject();
        if (claimId is not null)
        {
            doc[ClaimIdField] = claimId;
        }

        return Encoding.UTF8.GetBytes(doc.ToJsonString());
    }

    private static (TaskFireState State, string? ClaimId) DecodeFire(KvEntry e)
    {
        var json = Encoding.UTF8.GetString(e.Value ?? []);
        var state = RegistryJson.Deserialize<TaskFireState>(json);
        using var doc = JsonDocument.Parse(json);
        var id = doc.RootElement.TryGetProperty(ClaimIdField, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        return (state, id);
    }
}
