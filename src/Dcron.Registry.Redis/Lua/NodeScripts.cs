namespace DistributedCron.Registry.Redis.Lua;

/// <summary>
/// Membership scripts. KEYS: 1 nodes (HASH id → JSON), 2 expiry (ZSET id → server ms), 3 ttl (HASH id → ms),
/// 4 revision (counter). ARGV[1] is the change channel. Every script first reaps the nodes whose expiry (computed
/// from the server's TIME, never a client clock) has passed; every change increments the revision and publishes
/// exactly one message <c>{"r":rev,"k":kind,"id":id,"d":json}</c> (kind u = upserted, r = removed).
/// </summary>
internal static class NodeScripts
{
    private const string Prelude = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function emit(kind, id, data)
          local rev = redis.call('INCR', KEYS[4])
          local m = { r = rev, k = kind, id = id }
          if data then m.d = data end
          redis.call('PUBLISH', ARGV[1], cjson.encode(m))
        end
        local function reap(now)
          local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now))
          for _, id in ipairs(dead) do
            redis.call('ZREM', KEYS[2], id)
            redis.call('HDEL', KEYS[1], id)
            redis.call('HDEL', KEYS[3], id)
            emit('r', id)
          end
        end
        local now = now_ms()
        reap(now)

        """;

    /// <summary>ARGV: 2 id, 3 node JSON, 4 ttl ms. Returns 1.</summary>
    public const string Register = Prelude + """
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
        redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[4])), ARGV[2])
        emit('u', ARGV[2], ARGV[3])
        return 1
        """;

    /// <summary>ARGV: 2 id. Returns 1 when extended, 0 when the node is not registered (expired or removed).</summary>
    public const string Heartbeat = Prelude + """
        if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end
        local ttl = redis.call('HGET', KEYS[3], ARGV[2])
        if not ttl then return 0 end
        redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ttl)), ARGV[2])
        return 1
        """;

    /// <summary>ARGV: 2 id, 3 status (JSON name). Returns 1, or 0 when the node is not registered.</summary>
    public const string UpdateStatus = Prelude + """
        if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end
        local json = redis.call('HGET', KEYS[1], ARGV[2])
        if not json then return 0 end
        local node = cjson.decode(json)
        if node.status == ARGV[3] then return 1 end
        node.status = ARGV[3]
        local out = cjson.encode(node)
        redis.call('HSET', KEYS[1], ARGV[2], out)
        emit('u', ARGV[2], out)
        return 1
        """;

    /// <summary>ARGV: 2 id. Returns 1 when removed, 0 when it was not registered.</summary>
    public const string Unregister = Prelude + """
        local had = redis.call('ZREM', KEYS[2], ARGV[2])
        had = had + redis.call('HDEL', KEYS[1], ARGV[2])
        redis.call('HDEL', KEYS[3], ARGV[2])
        if had > 0 then emit('r', ARGV[2]) return 1 end
        return 0
        """;

    /// <summary>Returns { revision, { node JSON of every live node } } in one atomic read.</summary>
    public const string Read = Prelude + """
        local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
        local out = {}
        if #ids > 0 then
          local docs = redis.call('HMGET', KEYS[1], unpack(ids))
          for i = 1, #ids do
            if docs[i] then out[#out + 1] = docs[i] end
          end
        end
        return { tonumber(redis.call('GET', KEYS[4]) or '0'), out }
        """;

    /// <summary>Reaps expired nodes (publishing their removal) and returns the revision.</summary>
    public const string ReapAndRevision = Prelude + """
        return tonumber(redis.call('GET', KEYS[4]) or '0')
        """;
}
