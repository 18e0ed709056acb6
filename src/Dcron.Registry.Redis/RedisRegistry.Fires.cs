using DistributedCron.Registry.Redis.Lua;
using StackExchange.Redis;

namespace DistributedCron.Registry.Redis;

public sealed partial class RedisRegistry
{
    // An error text is stored with the outcome; keep the record bounded whatever the handler threw.
    private const int MaxErrorLength = 8 * 1024;

    /// <inheritdoc />
    public async Task<FireClaim> CanRunTaskAsync(string task, DateTimeOffset scheduledAt, string nodeId, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        RequireId(nodeId, nameof(nodeId));
        var ms = scheduledAt.ToUnixTimeMilliseconds();
        var r = Strings(await EvalAsync($"claim of task '{task}' at {scheduledAt.UtcDateTime:O}", FireScripts.Claim, _keys.FireKeys,
            [task, ms, nodeId], ct).ConfigureAwait(false), "claim");
        var at = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        if (r[0] == "1")
        {
            return new FireClaim { Granted = true, TaskName = task, ScheduledAt = at, NodeId = nodeId, FencingToken = long.Parse(r[2]) };
        }

        return new FireClaim
        {
            Granted = false,
            TaskName = task,
            ScheduledAt = at,
            NodeId = nodeId,
            LastScheduledAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(r[1])),
            CurrentOwner = r[3],
        };
    }

    /// <inheritdoc />
    public async Task CompleteFireAsync(FireClaim claim, FireOutcome outcome, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(outcome);
        if (!claim.Granted)
        {
            throw new ArgumentException($"The claim of task '{claim.TaskName}' at {claim.ScheduledAt:O} was not granted; there is nothing to complete.", nameof(claim));
        }

        DcronLimits.ValidateTaskName(claim.TaskName, nameof(claim));
        var stored = outcome with
        {
            FencingToken = claim.FencingToken,
            Error = outcome.Error is { Length: > MaxErrorLength } e ? e[..MaxErrorLength] + "…" : outcome.Error,
        };
        await EvalAsync($"completion of task '{claim.TaskName}' (token {claim.FencingToken})", FireScripts.Complete, _keys.FireKeys,
            [claim.TaskName, claim.FencingToken, RegistryJson.Serialize(stored)], ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<TaskFireState?> GetFireStateAsync(string task, CancellationToken ct = default)
    {
        DcronLimits.ValidateTaskName(task, nameof(task));
        var r = Array(await EvalAsync($"read fire state of task '{task}'", FireScripts.ReadOne, _keys.FireKeys, [task], ct)
            .ConfigureAwait(false), "fire state");
        var state = (string?)r[0];
        return state is null ? null : ParseState(task, state, (string?)r[1]);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, TaskFireState>> GetFireStatesAsync(CancellationToken ct = default)
    {
        var r = Array(await EvalAsync("read fire states", FireScripts.ReadAll, _keys.FireKeys, [], ct).ConfigureAwait(false), "fire states");
        var states = Strings(r[0], "fire states");
        var outcomes = Strings(r[1], "outcomes");
        var byTask = new Dictionary<string, string>(outcomes.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < outcomes.Length; i += 2)
        {
            byTask[outcomes[i]] = outcomes[i + 1];
        }

        var result = new Dictionary<string, TaskFireState>(states.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < states.Length; i += 2)
        {
            result[states[i]] = ParseState(states[i], states[i + 1], byTask.GetValueOrDefault(states[i]));
        }

        return result;
    }

    /// <summary>Parses <c>lastScheduledMs:fencingToken:owner</c> plus the outcome JSON.</summary>
    internal static TaskFireState ParseState(string task, string state, string? outcomeJson)
    {
        var a = state.Length < 2 ? -1 : state.IndexOf(':', 1);
        var b = a < 0 ? -1 : state.IndexOf(':', a + 1);
        if (b < 0 || !long.TryParse(state.AsSpan(0, a), out var ms) || !long.TryParse(state.AsSpan(a + 1, b - a - 1), out var token))
        {
            throw new RegistryException($"Corrupt fire state of task '{task}': '{state}'.");
        }

        return new TaskFireState
        {
            TaskName = task,
            LastScheduledAt = DateTimeOffset.FromUnixTimeMilliseconds(ms),
            FencingToken = token,
            Owner = state[(b + 1)..],
            LastOutcome = outcomeJson is null ? null : RegistryJson.Deserialize<FireOutcome>(outcomeJson),
        };
    }
}
