using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistributedCron.Registry.Redis.Client;

/// <summary>
/// <see cref="IRedisClient"/> over a StackExchange.Redis multiplexer (1.2.6 API that 2.x also has). Adds what the
/// client lacks: a per-call timeout (1.2.6 has no async timeout of its own), cancellation, and typed errors.
/// </summary>
internal sealed class StackExchangeRedisClient : IRedisClient
{
    private readonly IConnectionMultiplexer _mux;
    private readonly IDatabase _db;
    private readonly TimeSpan _timeout;
    private readonly bool _ownsMux;
    private readonly ILogger _logger;
    private int _disposed;

    public StackExchangeRedisClient(IConnectionMultiplexer mux, int database, TimeSpan timeout, bool ownsMux, ILogger logger)
    {
        _mux = mux;
        _db = mux.GetDatabase(database);
        _timeout = timeout;
        _ownsMux = ownsMux;
        _logger = logger;
        Endpoints = DescribeEndpoints(mux);
        ChannelPrefix = ReadChannelPrefix(mux);
        _mux.ConnectionRestored += OnConnectionRestored;
        _mux.ConnectionFailed += OnConnectionFailed;
    }

    public string Endpoints { get; }

    public string ChannelPrefix { get; }

    public event Action<string>? ConnectionRestored;

    public Task<RedisResult> EvalAsync(string operation, string script, RedisKey[] keys, RedisValue[] args, CancellationToken ct) =>
        RunAsync(operation, () => _db.ScriptEvaluateAsync(script, keys, args), ct);

    public Task<RedisValue> GetAsync(string operation, RedisKey key, CancellationToken ct) =>
        RunAsync(operation, () => _db.StringGetAsync(key), ct);

    public async Task<IAsyncDisposable> SubscribeAsync(string channel, Action<string> onMessage, CancellationToken ct)
    {
        var sub = _mux.GetSubscriber();
        var rc = new RedisChannel(channel, RedisChannel.PatternMode.Literal);
        Action<RedisChannel, RedisValue> handler = (_, value) => onMessage((string?)value ?? "");
        await RunAsync("SUBSCRIBE " + channel, async () => { await sub.SubscribeAsync(rc, handler).ConfigureAwait(false); return true; }, ct)
            .ConfigureAwait(false);
        return new Subscription(this, sub, rc, handler);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _mux.ConnectionRestored -= OnConnectionRestored;
        _mux.ConnectionFailed -= OnConnectionFailed;
        if (_ownsMux)
        {
            _mux.Close(allowCommandsToComplete: false);
            _mux.Dispose();
        }
    }

    /// <summary>
    /// Runs one command within the operation timeout. While the multiplexer has no connection (the server is down,
    /// restarting or silent) the command is never sent, so it is retried until a connection appears or the timeout
    /// runs out; a refused password fails at once.
    /// </summary>
    private async Task<T> RunAsync<T>(string operation, Func<Task<T>> start, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ct.ThrowIfCancellationRequested();
        var deadline = Stopwatch.GetTimestamp() + (long)(_timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            Task<T> task;
            try
            {
                task = start();
            }
            catch (Exception ex) when (RedisErrors.Map(ex, Endpoints, operation) is { } mapped)
            {
                throw mapped;
            }

            try
            {
                return await task.WaitAsync(Remaining(deadline), ct).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                Observe(task);
                throw new RegistryUnavailableException(
                    $"Redis at {Endpoints} did not answer {operation} within {_timeout.TotalMilliseconds:0} ms (RedisRegistryOptions.OperationTimeout).", ex);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Observe(task);
                throw;
            }
            catch (RedisConnectionException ex) when (NotSent(ex) && !RedisErrors.IsAuthenticationFailure(ex) && !RedisErrors.IsTlsFailure(ex))
            {
                if (Remaining(deadline) <= TimeSpan.Zero)
                {
                    throw new RegistryUnavailableException(
                        $"Redis at {Endpoints} is unreachable: no connection within {_timeout.TotalMilliseconds:0} ms (RedisRegistryOptions.OperationTimeout) for {operation}. {RedisErrors.FirstLine(ex.Message)}", ex);
                }

                await WaitForConnectionAsync(deadline, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (RedisErrors.Map(ex, Endpoints, operation) is { } mapped)
            {
                throw mapped;
            }
        }
    }

    // "No connection is available to service this operation": the command was not written to any socket.
    private static bool NotSent(RedisConnectionException ex) => ex.FailureType == ConnectionFailureType.UnableToResolvePhysicalConnection;

    private static TimeSpan Remaining(long deadline) =>
        TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

    /// <summary>Returns when the multiplexer reports a connection, after 100 ms at most, or at the deadline.</summary>
    private async Task WaitForConnectionAsync(long deadline, CancellationToken ct)
    {
        var until = Stopwatch.GetTimestamp() + (long)(0.1 * Stopwatch.Frequency);
        while (!_mux.IsConnected && Stopwatch.GetTimestamp() < Math.Min(until, deadline))
        {
            await Task.Delay(10, ct).ConfigureAwait(false);
        }
    }

    // A call abandoned by timeout or cancellation may still fail later; observe it so it is not unobserved.
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        RedisLog.ConnectionRestored(_logger, Describe(e.EndPoint), e.ConnectionType.ToString());
        ConnectionRestored?.Invoke($"{Describe(e.EndPoint)}/{e.ConnectionType}");
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        RedisLog.ConnectionFailed(_logger, Describe(e.EndPoint), e.ConnectionType.ToString(), e.FailureType.ToString());

    private static string DescribeEndpoints(IConnectionMultiplexer mux)
    {
        var eps = mux.GetEndPoints(configuredOnly: true);
        return eps.Length == 0 ? "(no endpoint)" : string.Join(",", eps.Select(Describe));
    }

    private static string Describe(EndPoint? ep) => ep switch
    {
        null => "(unknown)",
        DnsEndPoint d => $"{d.Host}:{d.Port}",
        IPEndPoint i => i.ToString(),
        _ => ep.ToString() ?? "(unknown)",
    };

    private static string ReadChannelPrefix(IConnectionMultiplexer mux)
    {
        try
        {
            return (string?)ConfigurationOptions.Parse(mux.Configuration, ignoreUnknown: true).ChannelPrefix ?? "";
        }
        catch (ArgumentException)
        {
            return "";
        }
    }

    private sealed class Subscription(StackExchangeRedisClient owner, ISubscriber sub, RedisChannel channel, Action<RedisChannel, RedisValue> handler)
        : IAsyncDisposable
    {
        private int _done;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0 || Volatile.Read(ref owner._disposed) != 0 && owner._ownsMux)
            {
                return;
            }

            try
            {
                await sub.UnsubscribeAsync(channel, handler).WaitAsync(owner._timeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                // The server is unreachable: the handler is detached locally anyway, and the server drops the
                // subscription with the connection. Logged, not rethrown, because this runs while a watch ends.
                RedisLog.UnsubscribeFailed(owner._logger, channel.ToString(), ex);
            }
        }
    }
}
