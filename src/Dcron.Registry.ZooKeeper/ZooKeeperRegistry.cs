using System.Text;
using DistributedCron.Registry.ZooKeeper.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DistributedCron.Registry.ZooKeeper;

/// <summary>
/// An <see cref="IRegistry"/> on a ZooKeeper ensemble, through the registry's own client of the ZooKeeper binary
/// protocol. Nodes are ephemeral znodes, each owned by a session of its own whose timeout is the node's TTL and
/// which only the node's heartbeats keep alive, so a node that stops heart-beating disappears when the server
/// expires its session. Tasks, tombstones and fire states are persistent znodes (one per name); claims are
/// versioned <c>setData</c> compare-and-set; <see cref="AddTaskAsync"/> is one <c>multi</c>. Watches re-arm and
/// re-read after every notification and after every reconnect, and emit a fresh snapshot after a reconnect.
/// </summary>
/// <remarks>
/// Layout under <c>[/chroot]/{Namespace}</c>: <c>nodes/{id}</c> (ephemeral, Node JSON), <c>tasks/{name}</c>
/// (TaskMeta JSON), <c>deleted/{name}</c> (empty), <c>fires/{name}</c> (TaskFireState JSON). See
/// <c>docs/registry-zookeeper.md</c>.
/// </remarks>
public sealed partial class ZooKeeperRegistry : IRegistry
{
    private readonly ZooKeeperRegistryOptions _options;
    private readonly ILogger _logger;
    private readonly ZkConnectString _connect;
    private readonly ZkPaths _paths;
    private readonly ZkClient _client;
    private readonly IReadOnlyList<ZkAcl> _acl;
    private readonly IReadOnlyList<(string Scheme, byte[] Auth)> _auth;
    private readonly string _identity;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();
    private Task? _layout;
    private volatile bool _isDisposed;

    /// <summary>Creates the registry; nothing connects until the first call.</summary>
    /// <param name="options">Connect string, namespace, timeouts, credentials, ACL.</param>
    /// <param name="logger">Where connection, session and watch events are logged.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it and its value).</exception>
    public ZooKeeperRegistry(ZooKeeperRegistryOptions options, ILogger<ZooKeeperRegistry>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _connect = ZkConnectString.Parse(_options.ConnectString, nameof(options.ConnectString));
        _paths = new ZkPaths(_connect.Chroot, _options.Namespace);
        if (_options.Username is { } user)
        {
            _auth = [("digest", Encoding.UTF8.GetBytes(user + ":" + _options.Password))];
            _identity = $"digest user '{user}'";
        }
        else
        {
            _auth = [];
            _identity = "an anonymous client";
        }

        _acl = _options.Acl is { } acl
            ? acl.Select(e => new ZkAcl((int)e.Permissions, e.Scheme, e.Id)).ToArray()
            : _options.Username is { } u
                ? [new ZkAcl(ZkAcl.All, "digest", ZkAcl.DigestId(u, _options.Password!))]
                : ZkAcl.OpenUnsafe;
        _client = new ZkClient(ClientOptions(_options.SessionTimeout, autoPing: true, renew: true, "main"), _logger);
    }

    /// <summary>The namespace this registry works in.</summary>
    public string Namespace => _options.Namespace;

    /// <summary>The znode everything of this namespace lives under (<c>[/chroot]/{Namespace}</c>).</summary>
    public string RootPath => _paths.Root;

    /// <summary>The main session's client (tests: which server it uses, its session id).</summary>
    internal ZkClient MainClient => _client;

    internal ZkPaths Paths => _paths;

    /// <summary>Closes the node sessions (their ephemeral znodes go at once), the main session, and ends open watches.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_isDisposed)
        {
            return;
        }

        NodeSession[] sessions;
        lock (_gate)
        {
            _isDisposed = true;
            sessions = _nodeSessions.Values.ToArray();
            _nodeSessions.Clear();
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        foreach (var s in sessions)
        {
            await s.Client.DisposeAsync().ConfigureAwait(false);
        }

        await _client.DisposeAsync().ConfigureAwait(false);
    }

    private ZkClientOptions ClientOptions(TimeSpan sessionTimeout, bool autoPing, bool renew, string name) => new()
    {
        Servers = _connect.Servers,
        SessionTimeout = sessionTimeout,
        RequestTimeout = _options.RequestTimeout,
        AutoPing = autoPing,
        RenewExpiredSession = renew,
        Auth = _auth,
        Identity = _identity,
        Name = $"{_options.Namespace}/{name}",
    };

    /// <summary>Creates the layout znodes once (missing ones only); a failed attempt is retried by the next call.</summary>
    private Task EnsureLayoutAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        Task layout;
        lock (_gate)
        {
            if (_layout is null || _layout.IsFaulted || _layout.IsCanceled)
            {
                _layout = CreateLayoutAsync(_disposed.Token);
            }

            layout = _layout;
        }

        return layout.IsCompletedSuccessfully ? Task.CompletedTask : layout.WaitAsync(ct);
    }

    private async Task CreateLayoutAsync(CancellationToken ct)
    {
        // The directories are created parents first and fires last: if fires exists, so does the rest.
        if (await _client.ExistsAsync(_paths.Fires, false, ct).ConfigureAwait(false) is null)
        {
            await CreateMissingLayoutAsync(ct).ConfigureAwait(false);
        }

        // exists() checks no ACL: read the root once so that credentials the root's ACL does not accept fail every
        // call with RegistryAuthenticationException (NOAUTH), not only the calls that happen to touch a znode.
        await _client.GetChildrenAsync(_paths.Root, false, ct).ConfigureAwait(false);
    }

    private async Task CreateMissingLayoutAsync(CancellationToken ct)
    {
        foreach (var path in _paths.Layout)
        {
            if (await _client.ExistsAsync(path, false, ct).ConfigureAwait(false) is not null)
            {
                continue;
            }

            try
            {
                await _client.CreateAsync(path, null, _acl, ZkCreateMode.Persistent, ct).ConfigureAwait(false);
            }
            catch (ZkErrorException ex) when (ex.Code == ZkError.NodeExists)
            {
                // created concurrently by another client
            }
        }
    }

    private void InvalidateLayout()
    {
        lock (_gate)
        {
            if (_layout is { IsCompleted: true })
            {
                _layout = null;
            }
        }
    }

    /// <summary>Runs <paramref name="op"/> after the layout exists; recreates the layout once if a directory is missing.</summary>
    private async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> op, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        ct.ThrowIfCancellationRequested();
        await EnsureLayoutAsync(ct).ConfigureAwait(false);
        try
        {
            return await op(ct).ConfigureAwait(false);
        }
        catch (LayoutMissingException)
        {
            InvalidateLayout();
            await EnsureLayoutAsync(ct).ConfigureAwait(false);
            return await op(ct).ConfigureAwait(false);
        }
    }

    private Task RunAsync(Func<CancellationToken, Task> op, CancellationToken ct) =>
        RunAsync<bool>(async c =>
        {
            await op(c).ConfigureAwait(false);
            return true;
        }, ct);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static string Utf8(byte[]? b) => b is null ? "" : Encoding.UTF8.GetString(b);

    private static bool Is(Exception ex, ZkError code) => ex is ZkErrorException z && z.Code == code;

    /// <summary>A directory of the layout vanished (deleted by hand): the caller recreates the layout and retries once.</summary>
    private sealed class LayoutMissingException(string path) : RegistryException($"The registry directory '{path}' does not exist.");
}
