using System.Buffers.Binary;
using System.Net.Sockets;

namespace DistributedCron.Registry.ZooKeeper.Client;

/// <summary>A reply to an ordinary request: its header and the raw packet (body starts at <see cref="BodyOffset"/>).</summary>
internal sealed record ZkReply(int Xid, long Zxid, ZkError Err, byte[] Packet)
{
    /// <summary>ReplyHeader = int xid, long zxid, int err.</summary>
    public const int BodyOffset = 16;

    /// <summary>A reader positioned at the reply body.</summary>
    public JuteReader Body() => new(Packet, BodyOffset);
}

/// <summary>What the handshake returned.</summary>
internal sealed record ZkHandshake(int TimeoutMs, long SessionId, byte[] Password);

/// <summary>
/// One TCP connection to one server of the ensemble, after its handshake: sends requests with increasing xids and
/// matches the replies in order (the server answers ordinary requests in request order), hands notifications to a
/// callback. Any I/O or protocol error closes it and fails every pending request.
/// </summary>
internal sealed class ZkConnection
{
    /// <summary>The largest frame the server accepts (jute.maxbuffer default 0xfffff) and the largest we read.</summary>
    public const int MaxRequestBody = 0xfffff;
    private const int MaxReplyBody = 64 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Queue<Pending> _pending = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<ZkWatchEvent> _onWatch;
    private readonly Action<long> _onZxid;
    private int _xid;
    private long _lastSend;
    private long _lastReceive;

    private ZkConnection(string server, Socket socket, Action<ZkWatchEvent> onWatch, Action<long> onZxid)
    {
        Server = server;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _onWatch = onWatch;
        _onZxid = onZxid;
        _lastSend = _lastReceive = Environment.TickCount64;
    }

    /// <summary>The server, as "host:port".</summary>
    public string Server { get; }

    /// <summary>Completes with the reason once the connection is closed.</summary>
    public Task<Exception> Closed => _closed.Task;

    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Milliseconds (Environment.TickCount64) of the last frame sent.</summary>
    public long LastSend => Interlocked.Read(ref _lastSend);

    /// <summary>Milliseconds (Environment.TickCount64) of the last frame received.</summary>
    public long LastReceive => Interlocked.Read(ref _lastReceive);

    /// <summary>When the oldest request still waiting for its reply was queued (Environment.TickCount64), or null.</summary>
    public long? OldestPendingSince
    {
        get
        {
            lock (_gate)
            {
                return _pending.TryPeek(out var p) ? p.Since : null;
            }
        }
    }

    /// <summary>
    /// Connects, performs the session handshake and sends the credentials (waiting for each auth reply), then
    /// starts reading. Throws <see cref="RegistryAuthenticationException"/> when the server rejects a credential.
    /// </summary>
    public static async Task<(ZkConnection Connection, ZkHandshake Handshake)> OpenAsync(
        string host, int port, JuteWriter connectRequest, IReadOnlyList<(string Scheme, byte[] Auth)> auth,
        Action<ZkWatchEvent> onWatch, Action<long> onZxid, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        ZkConnection? conn = null;
        try
        {
            await socket.ConnectAsync(host, port, ct).ConfigureAwait(false);
            conn = new ZkConnection($"{host}:{port}", socket, onWatch, onZxid);
            await conn._stream.WriteAsync(connectRequest.ToFrame(), ct).ConfigureAwait(false);
            var packet = await conn.ReadFrameAsync(ct).ConfigureAwait(false)
                ?? throw new IOException("The server closed the connection during the handshake.");
            var (timeout, session, password) = ZkCodec.ConnectResponse(new JuteReader(packet));
            var handshake = new ZkHandshake(timeout, session, password);
            if (timeout > 0)
            {
                foreach (var (scheme, bytes) in auth)
                {
                    var frame = ZkCodec.Request(ZkXid.Auth, ZkOp.Auth, ZkCodec.Auth(scheme, bytes)).ToFrame();
                    await conn._stream.WriteAsync(frame, ct).ConfigureAwait(false);
                    var reply = await conn.ReadFrameAsync(ct).ConfigureAwait(false)
                        ?? throw new RegistryAuthenticationException($"ZooKeeper {conn.Server} closed the connection after the '{scheme}' credentials were sent (AUTHFAILED).");
                    var r = new JuteReader(reply);
                    var xid = r.ReadInt();
                    r.ReadLong();
                    var err = r.ReadInt();
                    if (xid != ZkXid.Auth)
                    {
                        throw new ZkProtocolException($"Expected the auth reply (xid -4) from {conn.Server}, got xid {xid}.");
                    }

                    if (err != 0)
                    {
                        throw new RegistryAuthenticationException(
                            $"ZooKeeper {conn.Server} rejected the '{scheme}' credentials: {ZkErrorException.Name((ZkError)err)}.");
                    }
                }

                _ = conn.ReceiveLoopAsync();
            }

            return (conn, handshake);
        }
        catch
        {
            if (conn is not null)
            {
                conn.Abort(new IOException("handshake failed"));
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    /// <summary>Sends a request and returns its reply (whatever its error code).</summary>
    /// <exception cref="ZkConnectionLossException">The connection closed before the reply arrived.</exception>
    public async Task<ZkReply> SendAsync(int op, Action<JuteWriter>? body, CancellationToken ct)
    {
        Pending pending;
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (IsClosed)
            {
                throw new ZkConnectionLossException($"The connection to ZooKeeper {Server} is closed.", sent: false, Closed.Result);
            }

            var xid = NextXid();
            var request = ZkCodec.Request(xid, op, body);
            if (request.BodyLength > MaxRequestBody)
            {
                throw new RegistryException(
                    $"ZooKeeper {ZkOp.Name(op)} request of {request.BodyLength} bytes exceeds the server's frame limit (jute.maxbuffer, {MaxRequestBody} bytes).");
            }

            pending = new Pending(xid, op);
            lock (_gate)
            {
                _pending.Enqueue(pending);
            }

            await WriteAsync(request.ToFrame(), ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }

        return await pending.Tcs.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Sends a ping (xid -2); its reply only refreshes <see cref="LastReceive"/>.</summary>
    public async Task SendPingAsync(CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!IsClosed)
            {
                await WriteAsync(ZkCodec.Request(ZkXid.Ping, ZkOp.Ping, null).ToFrame(), ct).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Closes the socket and fails every pending request with a connection loss.</summary>
    public void Abort(Exception reason)
    {
        if (!_closed.TrySetResult(reason))
        {
            return;
        }

        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
            // closing a broken socket
        }

        Pending[] failed;
        lock (_gate)
        {
            failed = _pending.ToArray();
            _pending.Clear();
        }

        foreach (var p in failed)
        {
            p.Tcs.TrySetException(new ZkConnectionLossException(
                $"The connection to ZooKeeper {Server} was lost before the reply to {ZkOp.Name(p.Op)} arrived: {reason.Message}", sent: true, reason));
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken ct)
    {
        try
        {
            // A write cancelled half-way would corrupt the stream: write without the token, give up waiting with it.
            await _stream.WriteAsync(frame, CancellationToken.None).AsTask().WaitAsync(ct).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastSend, Environment.TickCount64);
        }
        catch (OperationCanceledException ex)
        {
            Abort(ex);
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Abort(ex);
            throw new ZkConnectionLossException($"Writing to ZooKeeper {Server} failed: {ex.Message}", sent: true, ex);
        }
    }

    private int NextXid()
    {
        _xid = _xid == int.MaxValue ? 1 : _xid + 1;
        return _xid;
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                var packet = await ReadFrameAsync(CancellationToken.None).ConfigureAwait(false);
                if (packet is null)
                {
                    Abort(new IOException($"ZooKeeper {Server} closed the connection."));
                    return;
                }

                Interlocked.Exchange(ref _lastReceive, Environment.TickCount64);
                Dispatch(packet);
            }
        }
        catch (Exception ex)
        {
            Abort(ex);
        }
    }

    private void Dispatch(byte[] packet)
    {
        var r = new JuteReader(packet);
        var xid = r.ReadInt();
        var zxid = r.ReadLong();
        var err = r.ReadInt();
        if (zxid > 0)
        {
            _onZxid(zxid);
        }

        switch (xid)
        {
            case ZkXid.Notification:
                _onWatch(ZkCodec.WatcherEvent(r));
                return;
            case ZkXid.Ping:
            case ZkXid.SetWatches:
                return;
            case ZkXid.Auth:
                if (err != 0)
                {
                    Abort(new RegistryAuthenticationException($"ZooKeeper {Server} rejected the credentials: {ZkErrorException.Name((ZkError)err)}."));
                }

                return;
        }

        Pending? head;
        lock (_gate)
        {
            _pending.TryDequeue(out head);
        }

        if (head is null || head.Xid != xid)
        {
            throw new ZkProtocolException($"ZooKeeper {Server} answered xid {xid}, but the next pending request is {(head is null ? "none" : head.Xid.ToString())}.");
        }

        head.Tcs.TrySetResult(new ZkReply(xid, zxid, (ZkError)err, packet));
    }

    /// <summary>Reads one length-prefixed frame; null at a clean end of stream before the length.</summary>
    private async Task<byte[]?> ReadFrameAsync(CancellationToken ct)
    {
        var header = new byte[4];
        var got = 0;
        while (got < 4)
        {
            var n = await _stream.ReadAsync(header.AsMemory(got), ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (got == 0)
                {
                    return null;
                }

                throw new IOException($"ZooKeeper {Server} closed the connection inside a frame header.");
            }

            got += n;
        }

        var len = BinaryPrimitives.ReadInt32BigEndian(header);
        if (len < 0 || len > MaxReplyBody)
        {
            throw new ZkProtocolException($"ZooKeeper {Server} sent an invalid frame length {len}.");
        }

        var body = new byte[len];
        await _stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
        return body;
    }

    private sealed class Pending(int xid, int op)
    {
        public int Xid { get; } = xid;

        public int Op { get; } = op;

        public long Since { get; } = Environment.TickCount64;

        public TaskCompletionSource<ZkReply> Tcs { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
