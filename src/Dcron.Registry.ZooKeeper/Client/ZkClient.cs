using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.ZooKeeper.Client;

/// <summary>Settings of one <see cref="ZkClient"/> (one session).</summary>
internal sealed record ZkClientOptions
{
    public required IReadOnlyList<ZkServerAddress> Servers { get; init; }

    /// <summary>The requested session timeout; the server clamps it to its [min, max].</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one call may take, waiting for a connection included.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// True: ping when nothing was sent for a third of the negotiated timeout and drop the connection when nothing
    /// was received for two thirds (the Java client's rule). False: the session lives only as long as the caller
    /// keeps sending requests (liveness driven by the caller's heartbeats).
    /// </summary>
    public bool AutoPing { get; init; } = true;

    /// <summary>True: after an expiry, start a new session. False: the client fails every call from then on.</summary>
    public bool RenewExpiredSession { get; init; } = true;

    /// <summary>Credentials sent after every handshake (scheme, auth bytes).</summary>
    public IReadOnlyList<(string Scheme, byte[] Auth)> Auth { get; init; } = [];

    /// <summary>Who the credentials say we are, for messages ("digest user 'alice'" or "anonymous").</summary>
    public string Identity { get; init; } = "anonymous";

    /// <summary>A name for logs.</summary>
    public string Name { get; init; } = "zk";
}

/// <summary>
/// A ZooKeeper client session over the binary protocol: connects to the servers of the connect string in turn,
/// re-attaches the session (id + password + last zxid) on another server after a connection loss, sends the
/// credentials after every handshake, pings, matches replies by xid, fans out watch notifications, and reports
/// expiry. Reads are retried across a reconnect within the request timeout; a write whose reply was lost fails
/// with <see cref="ZkConnectionLossException"/> (its outcome is unknown).
/// </summary>
internal sealed partial class ZkClient : IZkClient
{
    private readonly ZkClientOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _dispose = new();
    private readonly object _gate = new();
    private TaskCompletionSource<ZkConnection> _connected = NewConnectedTcs();
    private ZkConnection? _connection;
    private Task? _loop;
    private Exception? _terminal;
    private Exception? _lastConnectError;
    private long _sessionId;
    private byte[] _password = new byte[ZkCodec.PasswordLength];
    private long _lastZxid;
    private long _generation;
    private int _negotiatedMs;
    private int _serverIndex = Random.Shared.Next(1 << 20);
    private bool _disposed;

    public ZkClient(ZkClientOptions options, ILogger? logger = null)
    {
        if (options.Servers.Count == 0)
        {
            throw new ArgumentException("At least one ZooKeeper server is required.", nameof(options));
        }

        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    public event Action<ZkWatchEvent>? WatchTriggered;

    public event Action<ZkSessionState>? SessionStateChanged;

    public long SessionId => Interlocked.Read(ref _sessionId);

    /// <summary>The session password (for tests that move or close the session from another connection).</summary>
    public byte[] SessionPassword
    {
        get
        {
            lock (_gate)
            {
                return (byte[])_password.Clone();
            }
        }
    }

    /// <summary>The negotiated session timeout (zero before the first handshake).</summary>
    public TimeSpan NegotiatedTimeout => TimeSpan.FromMilliseconds(Volatile.Read(ref _negotiatedMs));

    public string? ConnectedServer => _connection is { IsClosed: false } c ? c.Server : null;

    public long ConnectionGeneration => Interlocked.Read(ref _generation);

    /// <summary>True once the session has expired and the client does not renew it.</summary>
    public bool IsExpired => _terminal is ZkSessionExpiredException;

    private string Servers => string.Join(",", _options.Servers);

    public async Task ConnectAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _dispose.Token);
        timeout.CancelAfter(_options.RequestTimeout);
        await WaitConnectedAsync(timeout.Token, ct).ConfigureAwait(false);
    }

    public async Task<string> CreateAsync(string path, byte[]? data, IReadOnlyList<ZkAcl> acl, ZkCreateMode mode, CancellationToken ct)
    {
        var reply = await CallAsync(ZkOp.Create, ZkCodec.Create(path, data, acl, mode), path, idempotent: false, ct).ConfigureAwait(false);
        return reply.Body().ReadString() ?? path;
    }

    public async Task DeleteAsync(string path, int version, CancellationToken ct) =>
        await CallAsync(ZkOp.Delete, ZkCodec.PathVersion(path, version), path, idempotent: false, ct).ConfigureAwait(false);

    public async Task<ZkStat?> ExistsAsync(string path, bool watch, CancellationToken ct)
    {
        var reply = await CallAsync(ZkOp.Exists, ZkCodec.PathWatch(path, watch), path, idempotent: true, ct, allowNoNode: true).ConfigureAwait(false);
        return reply.Err == ZkError.NoNode ? null : reply.Body().ReadStat();
    }

    public async Task<(byte[]? Data, ZkStat Stat)?> GetDataAsync(string path, bool watch, CancellationToken ct)
    {
        var reply = await CallAsync(ZkOp.GetData, ZkCodec.PathWatch(path, watch), path, idempotent: true, ct, allowNoNode: true).ConfigureAwait(false);
        if (reply.Err == ZkError.NoNode)
        {
            return null;
        }

        var r = reply.Body();
        var data = r.ReadBuffer();
        return (data, r.ReadStat());
    }

    public async Task<ZkStat> SetDataAsync(string path, byte[]? data, int version, CancellationToken ct)
    {
        var reply = await CallAsync(ZkOp.SetData, ZkCodec.SetData(path, data, version), path, idempotent: false, ct).ConfigureAwait(false);
        return reply.Body().ReadStat();
    }

    public async Task<IReadOnlyList<string>?> GetChildrenAsync(string path, bool watch, CancellationToken ct)
    {
        var reply = await CallAsync(ZkOp.GetChildren, ZkCodec.PathWatch(path, watch), path, idempotent: true, ct, allowNoNode: true).ConfigureAwait(false);
        return reply.Err == ZkError.NoNode ? null : reply.Body().ReadStringVector();
    }

    public async Task<IReadOnlyList<ZkMultiResult>> MultiAsync(IReadOnlyList<ZkMultiOp> ops, CancellationToken ct)
    {
        var path = ops.Count > 0 ? ops[0].Path : "/";
        var reply = await CallAsync(ZkOp.Multi, ZkCodec.Multi(ops), path, idempotent: false, ct).ConfigureAwait(false);
        var (results, failedIndex, code) = ZkCodec.MultiResponse(reply.Body());
        if (failedIndex >= 0)
        {
            var failedPath = failedIndex < ops.Count ? ops[failedIndex].Path : path;
            throw code == ZkError.NoAuth
                ? NoAuth(ZkOp.Multi, failedPath)
                : new ZkErrorException(code, ZkOp.Multi, failedPath, failedIndex);
        }

        return results;
    }

    public Task PingAsync(CancellationToken ct) => ExistsAsync("/", false, ct);

    /// <summary>Closes the current TCP connection as if the network failed (tests: the session must be re-attached).</summary>
    internal void DropConnection(string reason = "dropped by a test") => _connection?.Abort(new IOException(reason));

    /// <summary>Closes the session (ephemeral znodes go at once) and the connection; idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        ZkConnection? conn;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            conn = _connection;
        }

        if (conn is { IsClosed: false } && _terminal is null)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Min(2000, _options.RequestTimeout.TotalMilliseconds)));
                await conn.SendAsync(ZkOp.CloseSession, null, cts.Token).ConfigureAwait(false);
                Log.SessionClosed(_logger, _options.Name, SessionId);
            }
            catch (Exception ex) when (ex is RegistryException or OperationCanceledException or IOException)
            {
                Log.CloseFailed(_logger, _options.Name, SessionId, ex.Message);
            }
        }

        SetTerminal(new ObjectDisposedException(nameof(ZkClient), $"The ZooKeeper client '{_options.Name}' is disposed."));
        _dispose.Cancel();
        conn?.Abort(new ObjectDisposedException(nameof(ZkClient)));
        if (_loop is { } loop)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the loop ends by cancellation
            }
        }

        _dispose.Dispose();
    }

    private async Task<ZkReply> CallAsync(int op, Action<JuteWriter> body, string path, bool idempotent, CancellationToken ct, bool allowNoNode = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _dispose.Token);
        timeout.CancelAfter(_options.RequestTimeout);
        while (true)
        {
            var conn = await WaitConnectedAsync(timeout.Token, ct).ConfigureAwait(false);
            ZkReply reply;
            try
            {
                reply = await conn.SendAsync(op, body, timeout.Token).ConfigureAwait(false);
            }
            catch (ZkConnectionLossException ex) when ((!ex.Sent || idempotent) && !timeout.IsCancellationRequested)
            {
                if (ex.InnerException is RegistryAuthenticationException auth)
                {
                    throw auth;
                }

                continue;
            }
            catch (ZkConnectionLossException ex) when (ex.InnerException is RegistryAuthenticationException auth)
            {
                throw auth;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                ThrowIfTerminal();
                // No reply within the timeout: the connection is unusable (replies come in order), drop it.
                conn.Abort(new TimeoutException($"no reply to {ZkOp.Name(op)} within {_options.RequestTimeout}"));
                throw new ZkConnectionLossException(
                    $"ZooKeeper {conn.Server} did not answer {ZkOp.Name(op)} '{path}' within {_options.RequestTimeout.TotalSeconds:0.###} s (servers {Servers}).", sent: true);
            }

            return reply.Err switch
            {
                ZkError.Ok => reply,
                ZkError.NoNode when allowNoNode => reply,
                ZkError.NoAuth => throw NoAuth(op, path),
                ZkError.AuthFailed => throw new RegistryAuthenticationException($"ZooKeeper {conn.Server} rejected the credentials of {_options.Identity} (AUTHFAILED)."),
                _ => throw new ZkErrorException(reply.Err, op, path),
            };
        }
    }

    private RegistryAuthenticationException NoAuth(int op, string path) => new(
        $"ZooKeeper refused {ZkOp.Name(op)} '{path}' to {_options.Identity} (NOAUTH): wrong password or user, or the znode's ACL does not grant this identity.");

    private async Task<ZkConnection> WaitConnectedAsync(CancellationToken timeout, CancellationToken caller)
    {
        EnsureLoop();
        while (true)
        {
            ThrowIfTerminal();
            Task<ZkConnection> wait;
            lock (_gate)
            {
                wait = _connected.Task;
            }

            try
            {
                var conn = await wait.WaitAsync(timeout).ConfigureAwait(false);
                if (!conn.IsClosed)
                {
                    return conn;
                }

                // Closed, and the loop has not noticed yet: wait for the next connection instead.
                lock (_gate)
                {
                    if (ReferenceEquals(_connected.Task, wait))
                    {
                        _connected = NewConnectedTcs();
                    }
                }
            }
            catch (OperationCanceledException) when (!caller.IsCancellationRequested)
            {
                ThrowIfTerminal();
                var last = _lastConnectError;
                throw new ZkConnectionLossException(
                    $"No ZooKeeper server answered within {_options.RequestTimeout.TotalSeconds:0.###} s (servers {Servers}){(last is null ? "" : ": " + last.Message)}.",
                    sent: false, last);
            }
        }
    }

    private void ThrowIfTerminal()
    {
        var t = _terminal;
        if (t is not null)
        {
            throw t switch
            {
                ObjectDisposedException o => new ObjectDisposedException(o.ObjectName, o.Message),
                ZkSessionExpiredException e => new ZkSessionExpiredException(e.Message),
                RegistryAuthenticationException a => new RegistryAuthenticationException(a.Message, a),
                _ => new RegistryException(t.Message, t),
            };
        }
    }

    private void EnsureLoop()
    {
        lock (_gate)
        {
            if (_loop is null && !_disposed)
            {
                _loop = Task.Run(() => ConnectionLoopAsync(_dispose.Token));
            }
        }
    }

    private void SetTerminal(Exception ex)
    {
        TaskCompletionSource<ZkConnection> old;
        lock (_gate)
        {
            _terminal ??= ex;
            old = _connected;
        }

        old.TrySetException(ex);
    }

    private static TaskCompletionSource<ZkConnection> NewConnectedTcs() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Raise(ZkSessionState state)
    {
        try
        {
            SessionStateChanged?.Invoke(state);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, _options.Name, ex);
        }
    }

    private void OnWatch(ZkWatchEvent e)
    {
        try
        {
            WatchTriggered?.Invoke(e);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, _options.Name, ex);
        }
    }

    private void OnZxid(long zxid)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _lastZxid)) < zxid && Interlocked.CompareExchange(ref _lastZxid, zxid, seen) != seen)
        {
        }
    }
}
