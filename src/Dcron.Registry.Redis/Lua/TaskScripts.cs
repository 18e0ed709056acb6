namespace DistributedCron.Registry.Redis.Lua;

/// <summary>
/// Task and tombstone scripts. KEYS: 1 tasks (HASH name → JSON), 2 tombstones (HASH name → server ms),
/// 3 fires, 4 outcomes, 5 revision (counter). ARGV[1] is the change channel. Every change increments the revision
/// and publishes exactly one message <c>{"r":rev,"k":kind,"id":name,"d":json}</c>: p = put, x = removed,
/// t = tombstoned, s = restored, c = everything erased.
/// </summary>
internal static class TaskScripts
{
    private const string Prelude = """
        local function emit(kind, id, data)
          local rev = redis.call('INCR', KEYS[5])
          local m = { r = rev, k = kind, id = id }
          if data then m.d = data end
          redis.call('PUBLISH', ARGV[1], cjson.encode(m))
        end

        """;

    /// <summary>ARGV: 2 name, 3 JSON. Returns 0 added, 1 exists, 2 tombstoned (nothing written then).</summary>
    public const string Add = Prelude + """
        if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 2 end
        if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 0 then return 1 end
        emit('p', ARGV[2], ARGV[3])
        return 0
        """;

    /// <summary>ARGV: 2 name, 3 JSON. Creates or overwrites.</summary>
    public const string Put = Prelude + """
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
        emit('p', ARGV[2], ARGV[3])
        return 1
        """;

    /// <summary>ARGV: 2 name. Tombstones the name (idempotent: a second call publishes nothing).</summary>
    public const string MarkDeleted = Prelude + """
        local t = redis.call('TIME')
        if redis.call('HSETNX', KEYS[2], ARGV[2], string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))) == 1 then
          emit('t', ARGV[2])
        end
        return 1
        """;

    /// <summary>ARGV: 2 name. Removes that name's tombstone only.</summary>
    public const string RemoveDeleted = Prelude + """
        if redis.call('HDEL', KEYS[2], ARGV[2]) == 1 then emit('s', ARGV[2]) end
        return 1
        """;

    /// <summary>ARGV: 2 name. Erases metadata, tombstone, fire state and outcome of one task.</summary>
    public const string Cleanup = Prelude + """
        local meta = redis.call('HDEL', KEYS[1], ARGV[2])
        local tomb = redis.call('HDEL', KEYS[2], ARGV[2])
        redis.call('HDEL', KEYS[3], ARGV[2])
        redis.call('HDEL', KEYS[4], ARGV[2])
        if meta == 1 then emit('x', ARGV[2]) end
        if tomb == 1 then emit('s', ARGV[2]) end
        return 1
        """;

    /// <summary>Erases every task, tombstone, fire state and outcome of the namespace (the revision survives).</summary>
    public const string CleanupAll = Prelude + """
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
        emit('c', '')
        return 1
        """;

    /// <summary>Returns { revision, { name, json, name, json, … }, { tombstoned names } } in one atomic read.</summary>
    public const string Read = """
        return { tonumber(redis.call('GET', KEYS[5]) or '0'), redis.call('HGETALL', KEYS[1]), redis.call('HKEYS', KEYS[2]) }
        """;

    /// <summary>Returns the tombstoned names.</summary>
    public const string ReadTombstones = """
        return redis.call('HKEYS', KEYS[2])
        """;
}
