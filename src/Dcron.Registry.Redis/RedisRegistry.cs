using DistributedCron.Registry.Redis.Client;
using DistributedCron.Registry.Redis.Watch;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DistributedCron.Registry.Redis;

/// <summary>
/// An <see cref="IRegistry"/> on Redis (StackExchange.Redis 1.2.6 API, Redis ≥ 5). Every compare-and-set runs
/// server-side in Lua; node liveness uses the server's <c>TIME</c>; watches combine pub/sub notifications carrying
/// a revision number with a periodic poll and a re-read after every reconnect, so a dropped subscription or a
/// restarted server never loses a change for good. Key layout and failure semantics: <c>docs/registry-redis.md</c>.
/// </summary>
/// <remarks>
/// Errors: an unreachable server or a call exceeding <see cref="RedisRegistryOptions.OperationTimeout"/> throws
/// <see cref="RegistryUnavailableException"/> naming the endpoint; a refused password throws
/// <see cref="RegistryAuthenticationException"/>; any other server error throws <see cref="RegistryException"/>.
/// </remarks>
public sealed partial class RedisRegistry : IRegistry
{
    private readonly IRedisClient _client;
    private readonly RedisKeys _keys;
    private readonly RedisRegistryOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();
    private int _isDisposed;

    /// <summary>Creates a registry over a connected (or connecting) multiplexer.</summary>
    /// <param name="mux">The connection; configure password and TLS on its <see cref="ConfigurationOptions"/>.
    /// <c>abortConnect=false</c> is recommended so the application starts while Redis is down.</param>
    /// <param name="options">Namespace, database and timeouts; validated here.</param>
    /// <param name="logger">Diagnostics (connection changes, watch resynchronisation).</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public RedisRegistry(IConnectionMultiplexer mux, RedisRegistryOptions? options = null, ILogger<RedisRegistry>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(mux);
        _options = (options ?? new RedisRegistryOptions()).Clone();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _client = new StackExchangeRedisClient(mux, _options.Database, _options.OperationTimeout, _options.DisposeMultiplexer, _logger);
        _keys = new RedisKeys(_options.Namespace, _options.Database, _client.ChannelPrefix);
    }

    internal RedisRegistry(IRedisClient client, RedisRegistryOptions options, ILogger logger)
    {
        _options = options.Clone();
        _options.Validate();
        _logger = logger;
        _client = client;
        _keys = new RedisKeys(_options.Namespace, _options.Database, _client.ChannelPrefix);
    }

    /// <summary>The namespace this registry's keys live under.</summary>
    public string Namespace => _options.Namespace;

    /// <summary>The server endpoints (for diagnostics; never includes the password).</summary>
    public string Endpoints => _client.Endpoints;

    /// <summary>Ends open watches and detaches from the multiplexer (closing it only when
    /// <see cref="RedisRegistryOptions.DisposeMultiplexer"/> is set).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _isDisposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        // Cancelled, never disposed: open watches still hold its token (it owns no timer, so nothing leaks).
        _disposed.Cancel();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private CancellationToken DisposedToken
    {
        get
        {
            ThrowIfDisposed();
            return _disposed.Token;
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _isDisposed) != 0, this);

    private Task<RedisResult> EvalAsync(string operation, string script, RedisKey[] keys, RedisValue[] args, CancellationToken ct)
    {
        ThrowIfDisposed();
        return _client.EvalAsync(operation, script, keys, args, ct);
    }

    private RevisionWatch<TEvent> NewWatch<TEvent>(string channel,
        Func<CancellationToken, Task<(long, TEvent)>> read, Func<CancellationToken, Task<long>> poll, Func<WatchMessage, TEvent?> decode)
        where TEvent : class => new()
        {
            Client = _client,
            Channel = channel,
            ReadSnapshot = read,
            Poll = poll,
            Decode = decode,
            PollInterval = _options.WatchPollInterval,
            MaxRetryDelay = _options.WatchMaxRetryDelay,
            Logger = _logger,
        };

    private static RedisResult[] Array(RedisResult r, string what) =>
        r.IsNull ? throw new RegistryException($"Redis returned nil for {what}.") : (RedisResult[])r!;

    private static string[] Strings(RedisResult r, string what) =>
        Array(r, what).Select(x => (string?)x ?? throw new RegistryException($"Redis returned a nil element for {what}.")).ToArray();

    private static void RequireId(string nodeId, string paramName)
    {
        if (string.IsNullOrEmpty(nodeId))
        {
            throw new ArgumentException("A node id must not be empty.", paramName);
        }
    }
}
