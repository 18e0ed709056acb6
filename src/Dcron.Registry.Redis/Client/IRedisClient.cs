using StackExchange.Redis;

namespace DistributedCron.Registry.Redis.Client;

/// <summary>
/// The little of Redis the registry needs: Lua evaluation, pub/sub and connection events. Every call is bounded by
/// the operation timeout and the caller's token, and fails with the registry's typed exceptions
/// (<see cref="RegistryUnavailableException"/>, <see cref="RegistryAuthenticationException"/>,
/// <see cref="RegistryException"/>).
/// </summary>
internal interface IRedisClient : IDisposable
{
    /// <summary>The server endpoints, for error messages (never the password).</summary>
    string Endpoints { get; }

    /// <summary>The multiplexer's channel prefix (Lua must publish to prefixed names).</summary>
    string ChannelPrefix { get; }

    /// <summary>Raised (on a pool thread) when a connection to the server is re-established.</summary>
    event Action<string>? ConnectionRestored;

    /// <summary>Evaluates a Lua script.</summary>
    Task<RedisResult> EvalAsync(string operation, string script, RedisKey[] keys, RedisValue[] args, CancellationToken ct);

    /// <summary>Reads a string key (null when absent).</summary>
    Task<RedisValue> GetAsync(string operation, RedisKey key, CancellationToken ct);

    /// <summary>Subscribes a handler to a channel; disposing the result unsubscribes it.</summary>
    Task<IAsyncDisposable> SubscribeAsync(string channel, Action<string> onMessage, CancellationToken ct);
}
