using Microsoft.Extensions.Logging;

namespace DistributedCron.Registry.ZooKeeper.Client;

internal sealed partial class ZkClient
{
    /// <summary>
    /// Keeps a connection: tries the servers in turn (starting at a random one), re-attaches the session, supervises
    /// the connection (pings, read timeout) and starts over on the next server when it is lost.
    /// </summary>
    private async Task ConnectionLoopAsync(CancellationToken ct)
    {
        var failures = 0;
        var n = _options.Servers.Count;
        while (!ct.IsCancellationRequested && _terminal is null && !Volatile.Read(ref _disposed))
        {
            var server = _options.Servers[(int)((uint)_serverIndex++ % (uint)n)];
            long sessionBefore;
            ZkConnection conn;
            ZkHandshake hs;
            try
            {
                (conn, hs, sessionBefore) = await HandshakeAsync(server, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (RegistryAuthenticationException ex)
            {
                Log.AuthRejected(_logger, _options.Name, server.ToString(), ex.Message);
                SetTerminal(ex);
                return;
            }
            catch (Exception ex)
            {
                _lastConnectError = ex is OperationCanceledException
                    ? new TimeoutException($"{server} did not complete the handshake within {ConnectTimeout().TotalMilliseconds:0} ms")
                    : new IOException($"{server}: {ex.Message}", ex);
                failures++;
                Log.ConnectFailed(_logger, _options.Name, server.ToString(), ex.Message);
                if (failures % n == 0 && !await DelayAsync(Backoff(failures / n), ct).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (hs.TimeoutMs <= 0)
            {
                conn.Abort(new IOException("session expired"));
                if (sessionBefore == 0)
                {
                    failures++;
                    _lastConnectError = new IOException($"{server} refused to create a session");
                    continue;
                }

                Log.SessionExpired(_logger, _options.Name, sessionBefore, server.ToString());
                Raise(ZkSessionState.Expired);
                if (!_options.RenewExpiredSession)
                {
                    SetTerminal(new ZkSessionExpiredException(
                        $"The ZooKeeper session 0x{sessionBefore:x} of '{_options.Name}' expired (reported by {server})."));
                    return;
                }

                lock (_gate)
                {
                    _sessionId = 0;
                    _password = new byte[ZkCodec.PasswordLength];
                    _lastZxid = 0;
                }

                _serverIndex--; // a new session on the same server
                continue;
            }

            failures = 0;
            var isNew = sessionBefore != hs.SessionId;
            TaskCompletionSource<ZkConnection> tcs;
            lock (_gate)
            {
                _sessionId = hs.SessionId;
                _password = hs.Password;
                _negotiatedMs = hs.TimeoutMs;
                _connection = conn;
                if (_connected.Task.IsCompleted)
                {
                    _connected = NewConnectedTcs();
                }

                tcs = _connected;
            }

            if (_disposed)
            {
                conn.Abort(new ObjectDisposedException(nameof(ZkClient)));
                return;
            }

            Log.Connected(_logger, _options.Name, hs.SessionId, server.ToString(), hs.TimeoutMs, isNew);
            Interlocked.Increment(ref _generation);
            tcs.TrySetResult(conn);
            Raise(isNew ? ZkSessionState.Connected : ZkSessionState.Reconnected);

            await SuperviseAsync(conn, hs.TimeoutMs, ct).ConfigureAwait(false);

            lock (_gate)
            {
                _connection = null;
                if (_connected.Task.IsCompleted)
                {
                    _connected = NewConnectedTcs();
                }
            }

            if (ct.IsCancellationRequested || _terminal is not null || Volatile.Read(ref _disposed))
            {
                return;
            }

            var reason = conn.Closed.IsCompleted ? conn.Closed.Result.Message : "closed";
            _lastConnectError = new IOException($"{server}: {reason}");
            Log.Disconnected(_logger, _options.Name, SessionId, server.ToString(), reason);
            Raise(ZkSessionState.Disconnected);
            if (conn.Closed.Result is RegistryAuthenticationException auth)
            {
                SetTerminal(auth);
                return;
            }
        }
    }

    private async Task<(ZkConnection, ZkHandshake, long)> HandshakeAsync(ZkServerAddress server, CancellationToken ct)
    {
        long sessionId;
        byte[] password;
        long zxid;
        lock (_gate)
        {
            sessionId = _sessionId;
            password = _password;
            zxid = _lastZxid;
        }

        var request = ZkCodec.ConnectRequest(zxid, (int)_options.SessionTimeout.TotalMilliseconds, sessionId, password);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ConnectTimeout());
        var (conn, hs) = await ZkConnection.OpenAsync(server.Host, server.Port, request, _options.Auth, OnWatch, OnZxid, timeout.Token)
            .ConfigureAwait(false);
        return (conn, hs, sessionId);
    }

    /// <summary>Pings after a third of the timeout without sending; drops the connection after two thirds without receiving.</summary>
    private async Task SuperviseAsync(ZkConnection conn, int timeoutMs, CancellationToken ct)
    {
        try
        {
            var pingAfter = timeoutMs / 3;
            var readTimeout = timeoutMs * 2 / 3;
            var tick = TimeSpan.FromMilliseconds(Math.Clamp(timeoutMs / 10, 10, 250));
            if (!_options.AutoPing)
            {
                // No pings: the caller's requests keep the session alive. A server that stops answering is noticed
                // when a request has waited two thirds of the timeout with nothing received meanwhile.
                while (!conn.IsClosed)
                {
                    var now = Environment.TickCount64;
                    if (conn.OldestPendingSince is { } since && now - since >= readTimeout && now - conn.LastReceive >= readTimeout)
                    {
                        conn.Abort(new TimeoutException($"no reply from {conn.Server} for {readTimeout} ms"));
                        return;
                    }

                    await Task.WhenAny(conn.Closed, Task.Delay(tick, ct)).ConfigureAwait(false);
                }

                return;
            }

            var lastRound = Environment.TickCount64;
            while (!conn.IsClosed)
            {
                var now = Environment.TickCount64;
                var late = now - lastRound > pingAfter; // this loop itself was not scheduled in time (busy machine)
                lastRound = now;
                if (now - conn.LastReceive >= readTimeout && !late)
                {
                    conn.Abort(new TimeoutException($"nothing received from {conn.Server} for {readTimeout} ms"));
                    return;
                }

                if (now - conn.LastSend >= pingAfter || late)
                {
                    try
                    {
                        await conn.SendPingAsync(ct).ConfigureAwait(false);
                    }
                    catch (ZkConnectionLossException)
                    {
                        return;
                    }
                }

                await Task.WhenAny(conn.Closed, Task.Delay(tick, ct)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // disposing
        }
    }

    /// <summary>One handshake attempt may take the session timeout divided by the number of servers (at least 0.5 s).</summary>
    private TimeSpan ConnectTimeout()
    {
        var t = _negotiatedMs > 0 ? _negotiatedMs : _options.SessionTimeout.TotalMilliseconds;
        return TimeSpan.FromMilliseconds(Math.Clamp(t / _options.Servers.Count, 500, 10_000));
    }

    private static TimeSpan Backoff(int round) =>
        TimeSpan.FromMilliseconds(Math.Min(1000, 50 * Math.Pow(2, Math.Min(round - 1, 5))) + Random.Shared.Next(25));

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "ZooKeeper {Name}: session 0x{SessionId:x} on {Server}, timeout {TimeoutMs} ms (new session: {IsNew})")]
        public static partial void Connected(ILogger logger, string name, long sessionId, string server, int timeoutMs, bool isNew);

        [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "ZooKeeper {Name}: connection of session 0x{SessionId:x} to {Server} lost: {Reason}")]
        public static partial void Disconnected(ILogger logger, string name, long sessionId, string server, string reason);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "ZooKeeper {Name}: connecting to {Server} failed: {Reason}")]
        public static partial void ConnectFailed(ILogger logger, string name, string server, string reason);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "ZooKeeper {Name}: session 0x{SessionId:x} expired (reported by {Server})")]
        public static partial void SessionExpired(ILogger logger, string name, long sessionId, string server);

        [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "ZooKeeper {Name}: {Server} rejected the credentials: {Reason}")]
        public static partial void AuthRejected(ILogger logger, string name, string server, string reason);

        [LoggerMessage(EventId = 4105, Level = LogLevel.Debug, Message = "ZooKeeper {Name}: session 0x{SessionId:x} closed")]
        public static partial void SessionClosed(ILogger logger, string name, long sessionId);

        [LoggerMessage(EventId = 4106, Level = LogLevel.Debug, Message = "ZooKeeper {Name}: closing session 0x{SessionId:x} failed: {Reason}")]
        public static partial void CloseFailed(ILogger logger, string name, long sessionId, string reason);

        [LoggerMessage(EventId = 4107, Level = LogLevel.Error, Message = "ZooKeeper {Name}: an event handler threw")]
        public static partial void HandlerFailed(ILogger logger, string name, Exception ex);
    }
}
