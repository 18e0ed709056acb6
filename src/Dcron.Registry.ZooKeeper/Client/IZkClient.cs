namespace DistributedCron.Registry.ZooKeeper.Client;

/// <summary>Session events of a <see cref="ZkClient"/>.</summary>
internal enum ZkSessionState
{
    /// <summary>A new session was established (the first one, or a replacement after expiry).</summary>
    Connected,

    /// <summary>The same session was re-attached on a (possibly different) server; its watches are gone.</summary>
    Reconnected,

    /// <summary>The connection was lost; the client is reconnecting.</summary>
    Disconnected,

    /// <summary>The server reported the session expired: its ephemeral znodes are gone.</summary>
    Expired,
}

/// <summary>The ZooKeeper operations the registry uses. Paths are absolute; reads return null for an absent node.</summary>
internal interface IZkClient : IAsyncDisposable
{
    /// <summary>The current session id (0 before the first session).</summary>
    long SessionId { get; }

    /// <summary>The server of the current connection, or null while disconnected.</summary>
    string? ConnectedServer { get; }

    /// <summary>Counts established connections: a change means the server-side watches of the previous connection are gone.</summary>
    long ConnectionGeneration { get; }

    /// <summary>Watch notifications, fanned out to every handler (called on the receive loop: do not block).</summary>
    event Action<ZkWatchEvent>? WatchTriggered;

    /// <summary>Session state changes (called on the connection loop: do not block).</summary>
    event Action<ZkSessionState>? SessionStateChanged;

    /// <summary>Waits until a session is established.</summary>
    Task ConnectAsync(CancellationToken ct);

    Task<string> CreateAsync(string path, byte[]? data, IReadOnlyList<ZkAcl> acl, ZkCreateMode mode, CancellationToken ct);

    Task DeleteAsync(string path, int version, CancellationToken ct);

    Task<ZkStat?> ExistsAsync(string path, bool watch, CancellationToken ct);

    Task<(byte[]? Data, ZkStat Stat)?> GetDataAsync(string path, bool watch, CancellationToken ct);

    Task<ZkStat> SetDataAsync(string path, byte[]? data, int version, CancellationToken ct);

    Task<IReadOnlyList<string>?> GetChildrenAsync(string path, bool watch, CancellationToken ct);

    Task<IReadOnlyList<ZkMultiResult>> MultiAsync(IReadOnlyList<ZkMultiOp> ops, CancellationToken ct);

    /// <summary>A round trip that resets the session timer.</summary>
    Task PingAsync(CancellationToken ct);
}
