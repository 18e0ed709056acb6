namespace DistributedCron.Registry.Redis.Lua;

/// <summary>
/// Claim scripts. KEYS: 1 fires (HASH task → <c>lastScheduledMs:fencingToken:owner</c>), 2 outcomes
/// (HASH task → FireOutcome JSON). One field per task in each hash: storage does not grow with the number of fires.
/// </summary>
internal static class FireScripts
{
    /// <summary>
    /// ARGV: 1 task, 2 scheduled ms (UTC), 3 node id. The monotonic compare-and-set: granted iff the scheduled
    /// instant is later than the stored one. Returns { granted 1|0, lastMs, token, owner } as strings.
    /// </summary>
    public const string Claim = """
        local v = redis.call('HGET', KEYS[1], ARGV[1])
        local token = 0
        if v then
          local last, tok, owner = string.match(v, '^(%-?%d+):(%d+):(.*)$')
          if not last then return redis.error_reply('ERR dcron: corrupt fire state of ' .. ARGV[1] .. ': ' .. v) end
          if tonumber(last) >= tonumber(ARGV[2]) then return { '0', last, tok, owner } end
          token = tonumber(tok)
        end
        token = token + 1
        local ts = string.format('%d', token)
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ts .. ':' .. ARGV[3])
        return { '1', ARGV[2], ts, ARGV[3] }
        """;

    /// <summary>
    /// ARGV: 1 task, 2 fencing token, 3 outcome JSON. Stores the outcome only while that token is the task's
    /// latest claim. Returns 1 stored, 0 superseded.
    /// </summary>
    public const string Complete = """
        local v = redis.call('HGET', KEYS[1], ARGV[1])
        if not v then return 0 end
        local tok = string.match(v, '^%-?%d+:(%d+):')
        if tok ~= ARGV[2] then return 0 end
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
        return 1
        """;

    /// <summary>ARGV: 1 task. Returns { state or false, outcome or false }.</summary>
    public const string ReadOne = """
        return { redis.call('HGET', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1]) }
        """;

    /// <summary>Returns { { task, state, … }, { task, outcome, … } }.</summary>
    public const string ReadAll = """
        return { redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]) }
        """;
}
