namespace DistributedCron.Registry.Etcd;

/// <summary>
/// etcd answered a request with an error that is neither an outage (<see cref="RegistryUnavailableException"/>)
/// nor a credentials problem (<see cref="RegistryAuthenticationException"/>): for example a request larger than the
/// server's <c>--max-request-bytes</c>, or a compacted revision.
/// </summary>
public sealed class EtcdException : RegistryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="endpoint">The endpoint that answered.</param>
    /// <param name="path">The gateway path called (for example <c>/v3/kv/txn</c>).</param>
    /// <param name="grpcCode">The gRPC status code etcd returned (3 InvalidArgument, 5 NotFound, 11 OutOfRange, …).</param>
    /// <param name="serverMessage">etcd's error text.</param>
    public EtcdException(string endpoint, string path, int grpcCode, string serverMessage)
        : base($"etcd at {endpoint} refused {path}: {serverMessage} (gRPC code {grpcCode}).")
    {
        Endpoint = endpoint;
        Path = path;
        GrpcCode = grpcCode;
        ServerMessage = serverMessage;
    }

    /// <summary>The endpoint that answered.</summary>
    public string Endpoint { get; }

    /// <summary>The gateway path called.</summary>
    public string Path { get; }

    /// <summary>The gRPC status code etcd returned.</summary>
    public int GrpcCode { get; }

    /// <summary>etcd's error text.</summary>
    public string ServerMessage { get; }

    /// <summary>True for <c>etcdserver: requested lease not found</c>.</summary>
    internal bool IsLeaseNotFound => GrpcCode == 5 && ServerMessage.Contains("lease not found", StringComparison.Ordinal);
}
