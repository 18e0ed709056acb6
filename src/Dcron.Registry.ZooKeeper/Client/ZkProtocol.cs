using System.Security.Cryptography;
using System.Text;

namespace DistributedCron.Registry.ZooKeeper.Client;

/// <summary>Request opcodes (the <c>type</c> field of a RequestHeader).</summary>
internal static class ZkOp
{
    public const int Create = 1;
    public const int Delete = 2;
    public const int Exists = 3;
    public const int GetData = 4;
    public const int SetData = 5;
    public const int GetAcl = 6;
    public const int GetChildren = 8;
    public const int Ping = 11;
    public const int Check = 13;
    public const int Multi = 14;
    public const int CloseSession = -11;
    public const int Auth = 100;
    public const int WhoAmI = 107;

    public static string Name(int op) => op switch
    {
        Create => "create",
        Delete => "delete",
        Exists => "exists",
        GetData => "getData",
        SetData => "setData",
        GetAcl => "getACL",
        GetChildren => "getChildren",
        Ping => "ping",
        Check => "check",
        Multi => "multi",
        CloseSession => "closeSession",
        Auth => "auth",
        WhoAmI => "whoAmI",
        _ => $"op {op}",
    };
}

/// <summary>Special xids of the protocol.</summary>
internal static class ZkXid
{
    public const int Notification = -1;
    public const int Ping = -2;
    public const int Auth = -4;
    public const int SetWatches = -8;
}

/// <summary>Server error codes (KeeperException.Code) the client distinguishes.</summary>
internal enum ZkError
{
    Ok = 0,
    RuntimeInconsistency = -2,
    ConnectionLoss = -4,
    MarshallingError = -5,
    Unimplemented = -6,
    BadArguments = -8,
    NoNode = -101,
    NoAuth = -102,
    BadVersion = -103,
    NoChildrenForEphemerals = -108,
    NodeExists = -110,
    NotEmpty = -111,
    SessionExpired = -112,
    InvalidAcl = -114,
    AuthFailed = -115,
    SessionMoved = -118,
    NoWatcher = -121,
}

/// <summary>Create flags (CreateMode) of the create opcode.</summary>
internal enum ZkCreateMode
{
    Persistent = 0,
    Ephemeral = 1,
    PersistentSequential = 2,
    EphemeralSequential = 3,
}

/// <summary>Watch notification event types.</summary>
internal enum ZkEventType
{
    None = -1,
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
}

/// <summary>A watch notification from the server (xid -1).</summary>
internal sealed record ZkWatchEvent(ZkEventType Type, int State, string Path);

/// <summary>The znode metadata record.</summary>
internal sealed record ZkStat(
    long Czxid, long Mzxid, long Ctime, long Mtime, int Version, int Cversion, int Aversion,
    long EphemeralOwner, int DataLength, int NumChildren, long Pzxid);

/// <summary>One ACL entry: permission bits and an id (scheme + id).</summary>
internal sealed record ZkAcl(int Perms, string Scheme, string Id)
{
    public const int Read = 1;
    public const int Write = 2;
    public const int CreatePerm = 4;
    public const int DeletePerm = 8;
    public const int Admin = 16;
    public const int All = 31;

    /// <summary>The open ACL: everyone may do everything.</summary>
    public static IReadOnlyList<ZkAcl> OpenUnsafe { get; } = [new ZkAcl(All, "world", "anyone")];

    /// <summary>
    /// The id the digest provider gives a user: <c>user:base64(sha1("user:password"))</c>.
    /// </summary>
    public static string DigestId(string user, string password)
    {
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes(user + ":" + password));
        return user + ":" + Convert.ToBase64String(hash);
    }
}

/// <summary>One operation of a multi transaction.</summary>
internal abstract record ZkMultiOp(string Path)
{
    public abstract int OpCode { get; }

    public sealed record Create(string Path, byte[]? Data, IReadOnlyList<ZkAcl> Acl, ZkCreateMode Mode) : ZkMultiOp(Path)
    {
        public override int OpCode => ZkOp.Create;
    }

    public sealed record Delete(string Path, int Version) : ZkMultiOp(Path)
    {
        public override int OpCode => ZkOp.Delete;
    }

    public sealed record SetData(string Path, byte[]? Data, int Version) : ZkMultiOp(Path)
    {
        public override int OpCode => ZkOp.SetData;
    }

    /// <summary>A version check; never sent outside a multi (the server mishandles a matching standalone check).</summary>
    public sealed record Check(string Path, int Version) : ZkMultiOp(Path)
    {
        public override int OpCode => ZkOp.Check;
    }
}

/// <summary>The result of one operation of a successful multi.</summary>
internal sealed record ZkMultiResult(int OpCode, string? Path, ZkStat? Stat);

/// <summary>Encoders and decoders of the records the client sends and receives.</summary>
internal static class ZkCodec
{
    public const int PasswordLength = 16;

    /// <summary>The ConnectRequest (no header), with the trailing readOnly flag: a 45-byte body.</summary>
    public static JuteWriter ConnectRequest(long lastZxidSeen, int timeoutMs, long sessionId, byte[] password)
    {
        var w = new JuteWriter(64);
        w.WriteInt(0);
        w.WriteLong(lastZxidSeen);
        w.WriteInt(timeoutMs);
        w.WriteLong(sessionId);
        w.WriteBuffer(password);
        w.WriteBool(false);
        return w;
    }

    /// <summary>Decodes a ConnectResponse; <c>readOnly</c> is optional (absent for old-protocol replies).</summary>
    public static (int TimeoutMs, long SessionId, byte[] Password) ConnectResponse(JuteReader r)
    {
        r.ReadInt();
        var timeout = r.ReadInt();
        var session = r.ReadLong();
        var password = r.ReadBuffer() ?? [];
        if (r.Remaining > 0)
        {
            r.ReadBool();
        }

        return (timeout, session, password);
    }

    /// <summary>A request: header (xid, opcode), then the body written by <paramref name="body"/>.</summary>
    public static JuteWriter Request(int xid, int op, Action<JuteWriter>? body)
    {
        var w = new JuteWriter();
        w.WriteInt(xid);
        w.WriteInt(op);
        body?.Invoke(w);
        return w;
    }

    public static Action<JuteWriter> PathWatch(string path, bool watch) => w =>
    {
        w.WriteString(path);
        w.WriteBool(watch);
    };

    public static Action<JuteWriter> PathVersion(string path, int version) => w =>
    {
        w.WriteString(path);
        w.WriteInt(version);
    };

    public static Action<JuteWriter> Create(string path, byte[]? data, IReadOnlyList<ZkAcl> acl, ZkCreateMode mode) => w =>
    {
        w.WriteString(path);
        w.WriteBuffer(data);
        w.WriteAcl(acl);
        w.WriteInt((int)mode);
    };

    public static Action<JuteWriter> SetData(string path, byte[]? data, int version) => w =>
    {
        w.WriteString(path);
        w.WriteBuffer(data);
        w.WriteInt(version);
    };

    public static Action<JuteWriter> Auth(string scheme, byte[] auth) => w =>
    {
        w.WriteInt(0);
        w.WriteString(scheme);
        w.WriteBuffer(auth);
    };

    /// <summary>The multi body: per op a MultiHeader (type, done=false, err=-1) and its record, then the terminator.</summary>
    public static Action<JuteWriter> Multi(IReadOnlyList<ZkMultiOp> ops) => w =>
    {
        foreach (var op in ops)
        {
            w.WriteInt(op.OpCode);
            w.WriteBool(false);
            w.WriteInt(-1);
            switch (op)
            {
                case ZkMultiOp.Create c:
                    Create(c.Path, c.Data, c.Acl, c.Mode)(w);
                    break;
                case ZkMultiOp.Delete d:
                    PathVersion(d.Path, d.Version)(w);
                    break;
                case ZkMultiOp.SetData s:
                    SetData(s.Path, s.Data, s.Version)(w);
                    break;
                case ZkMultiOp.Check k:
                    PathVersion(k.Path, k.Version)(w);
                    break;
                default:
                    throw new ArgumentException($"Unsupported multi op {op.GetType().Name}.", nameof(ops));
            }
        }

        w.WriteInt(-1);
        w.WriteBool(true);
        w.WriteInt(-1);
    };

    /// <summary>
    /// Decodes a multi reply. On a failed transaction returns the index and code of the first result whose error is
    /// neither 0 nor RUNTIMEINCONSISTENCY; otherwise the per-op results.
    /// </summary>
    public static (IReadOnlyList<ZkMultiResult> Results, int FailedIndex, ZkError FailedCode) MultiResponse(JuteReader r)
    {
        var results = new List<ZkMultiResult>();
        var failedIndex = -1;
        var failedCode = ZkError.Ok;
        while (true)
        {
            var type = r.ReadInt();
            var done = r.ReadBool();
            var err = r.ReadInt();
            if (done)
            {
                break;
            }

            switch (type)
            {
                case ZkOp.Create:
                    results.Add(new ZkMultiResult(type, r.ReadString(), null));
                    break;
                case 15: // create2 result
                    results.Add(new ZkMultiResult(type, r.ReadString(), r.ReadStat()));
                    break;
                case ZkOp.SetData:
                    results.Add(new ZkMultiResult(type, null, r.ReadStat()));
                    break;
                case ZkOp.Delete:
                case ZkOp.Check:
                    results.Add(new ZkMultiResult(type, null, null));
                    break;
                case -1:
                    var code = r.ReadInt();
                    if (failedIndex < 0 && code != 0 && code != (int)ZkError.RuntimeInconsistency)
                    {
                        failedIndex = results.Count;
                        failedCode = (ZkError)code;
                    }

                    results.Add(new ZkMultiResult(type, null, null));
                    break;
                default:
                    throw new ZkProtocolException($"Unexpected multi result type {type} (err {err}).");
            }
        }

        return (results, failedIndex, failedCode);
    }

    public static ZkWatchEvent WatcherEvent(JuteReader r)
    {
        var type = (ZkEventType)r.ReadInt();
        var state = r.ReadInt();
        var path = r.ReadString() ?? "";
        return new ZkWatchEvent(type, state, path);
    }
}
