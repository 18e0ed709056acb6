namespace DistributedCron.Registry.ZooKeeper.Client;

/// <summary>The server answered a request with an error code the caller may want to handle (NoNode, NodeExists, BadVersion…).</summary>
internal sealed class ZkErrorException : RegistryException
{
    public ZkErrorException(ZkError code, int op, string path, int failedOpIndex = -1)
        : base(Describe(code, op, path, failedOpIndex))
    {
        Code = code;
        Op = op;
        Path = path;
        FailedOpIndex = failedOpIndex;
    }

    /// <summary>The server's error code.</summary>
    public ZkError Code { get; }

    /// <summary>The opcode of the request.</summary>
    public int Op { get; }

    /// <summary>The path concerned (for a multi: the failing op's path).</summary>
    public string Path { get; }

    /// <summary>For a failed multi: the index of the operation that failed; -1 otherwise.</summary>
    public int FailedOpIndex { get; }

    private static string Describe(ZkError code, int op, string path, int index) =>
        index >= 0
            ? $"ZooKeeper multi failed at operation {index} ({path}): {Name(code)}."
            : $"ZooKeeper {ZkOp.Name(op)} '{path}' failed: {Name(code)}.";

    /// <summary>The name of an error code, with its number.</summary>
    public static string Name(ZkError code) => Enum.IsDefined(code) ? $"{code.ToString().ToUpperInvariant()} ({(int)code})" : $"error {(int)code}";
}

/// <summary>
/// The connection to the server was lost (or the request timed out) before the reply arrived. When
/// <see cref="Sent"/> is true the request may or may not have been applied.
/// </summary>
internal sealed class ZkConnectionLossException : RegistryUnavailableException
{
    public ZkConnectionLossException(string message, bool sent, Exception? inner = null) : base(message, inner) => Sent = sent;

    /// <summary>True when the request reached the socket (its outcome is unknown).</summary>
    public bool Sent { get; }
}

/// <summary>The session expired (the server answered a reattach with timeout 0) and this client does not renew it.</summary>
internal sealed class ZkSessionExpiredException : RegistryUnavailableException
{
    public ZkSessionExpiredException(string message) : base(message) { }
}

/// <summary>The bytes from the server do not form the expected records; the connection is dropped.</summary>
internal sealed class ZkProtocolException : RegistryException
{
    public ZkProtocolException(string message) : base(message) { }
}
