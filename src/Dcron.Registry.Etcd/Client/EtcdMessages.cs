using System.Text.Json.Serialization;

namespace DistributedCron.Registry.Etcd.Client;

// The etcd v3 JSON gateway's messages (the proto3 JSON mapping of etcdserverpb). Rules of that mapping this file
// follows: bytes are base64 (byte[] here), int64 travel as strings (the serializer context reads and writes them as
// strings), fields with their zero value are left out of responses (every response field has a usable default), and
// names are case-sensitive: "TTL" and "ID" stay upper-case, so no naming policy may ever be applied to these types.

/// <summary>The header of every response.</summary>
internal sealed class ResponseHeader
{
    [JsonPropertyName("cluster_id")] public ulong ClusterId { get; set; }
    [JsonPropertyName("member_id")] public ulong MemberId { get; set; }
    [JsonPropertyName("revision")] public long Revision { get; set; }
    [JsonPropertyName("raft_term")] public ulong RaftTerm { get; set; }
}

/// <summary>One stored key with its revisions.</summary>
internal sealed class KeyValue
{
    [JsonPropertyName("key")] public byte[] Key { get; set; } = [];
    [JsonPropertyName("create_revision")] public long CreateRevision { get; set; }
    [JsonPropertyName("mod_revision")] public long ModRevision { get; set; }
    [JsonPropertyName("version")] public long Version { get; set; }
    [JsonPropertyName("value")] public byte[] Value { get; set; } = [];
    [JsonPropertyName("lease")] public long Lease { get; set; }
}

internal sealed class RangeRequest
{
    [JsonPropertyName("key")] public byte[] Key { get; set; } = [];
    [JsonPropertyName("range_end")] public byte[]? RangeEnd { get; set; }
    [JsonPropertyName("limit")] public long? Limit { get; set; }
    [JsonPropertyName("revision")] public long? Revision { get; set; }
    [JsonPropertyName("keys_only")] public bool? KeysOnly { get; set; }
    [JsonPropertyName("count_only")] public bool? CountOnly { get; set; }
}

internal sealed class RangeResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("kvs")] public List<KeyValue> Kvs { get; set; } = [];
    [JsonPropertyName("more")] public bool More { get; set; }
    [JsonPropertyName("count")] public long Count { get; set; }
}

internal sealed class PutRequest
{
    [JsonPropertyName("key")] public byte[] Key { get; set; } = [];
    [JsonPropertyName("value")] public byte[] Value { get; set; } = [];
    [JsonPropertyName("lease")] public long? Lease { get; set; }
    [JsonPropertyName("prev_kv")] public bool? PrevKv { get; set; }
}

internal sealed class PutResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("prev_kv")] public KeyValue? PrevKv { get; set; }
}

internal sealed class DeleteRangeRequest
{
    [JsonPropertyName("key")] public byte[] Key { get; set; } = [];
    [JsonPropertyName("range_end")] public byte[]? RangeEnd { get; set; }
    [JsonPropertyName("prev_kv")] public bool? PrevKv { get; set; }
}

internal sealed class DeleteRangeResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("deleted")] public long Deleted { get; set; }
    [JsonPropertyName("prev_kvs")] public List<KeyValue> PrevKvs { get; set; } = [];
}

/// <summary>One condition of a txn. Always set <see cref="Target"/> and the one union field that matches it.</summary>
internal sealed class Compare
{
    [JsonPropertyName("key")] public byte[] Key { get; set; } = [];
    [JsonPropertyName("range_end")] public byte[]? RangeEnd { get; set; }

    /// <summary>VERSION, CREATE, MOD, VALUE or LEASE.</summary>
    [JsonPropertyName("target")] public string Target { get; set; } = "";

    /// <summary>EQUAL, GREATER, LESS or NOT_EQUAL.</summary>
    [JsonPropertyName("result")] public string Result { get; set; } = "";

    [JsonPropertyName("version")] public long? Version { get; set; }
    [JsonPropertyName("create_revision")] public long? CreateRevision { get; set; }
    [JsonPropertyName("mod_revision")] public long? ModRevision { get; set; }
    [JsonPropertyName("value")] public byte[]? Value { get; set; }
    [JsonPropertyName("lease")] public long? Lease { get; set; }

    /// <summary>The key does not exist (its create revision is 0).</summary>
    public static Compare Absent(byte[] key) => new() { Key = key, Target = "CREATE", Result = "EQUAL", CreateRevision = 0 };

    /// <summary>The key was last written at <paramref name="modRevision"/> (0: the key does not exist).</summary>
    public static Compare ModifiedAt(byte[] key, long modRevision) =>
        new() { Key = key, Target = "MOD", Result = "EQUAL", ModRevision = modRevision };
}

/// <summary>One operation of a txn branch: exactly one member is set.</summary>
internal sealed class RequestOp
{
    [JsonPropertyName("request_range")] public RangeRequest? RequestRange { get; set; }
    [JsonPropertyName("request_put")] public PutRequest? RequestPut { get; set; }
    [JsonPropertyName("request_delete_range")] public DeleteRangeRequest? RequestDeleteRange { get; set; }

    public static RequestOp Range(RangeRequest r) => new() { RequestRange = r };

    public static RequestOp Put(PutRequest r) => new() { RequestPut = r };

    public static RequestOp Delete(DeleteRangeRequest r) => new() { RequestDeleteRange = r };
}

internal sealed class ResponseOp
{
    [JsonPropertyName("response_range")] public RangeResponse? ResponseRange { get; set; }
    [JsonPropertyName("response_put")] public PutResponse? ResponsePut { get; set; }
    [JsonPropertyName("response_delete_range")] public DeleteRangeResponse? ResponseDeleteRange { get; set; }
}

internal sealed class TxnRequest
{
    [JsonPropertyName("compare")] public List<Compare> Compare { get; set; } = [];
    [JsonPropertyName("success")] public List<RequestOp> Success { get; set; } = [];
    [JsonPropertyName("failure")] public List<RequestOp> Failure { get; set; } = [];
}

internal sealed class TxnResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();

    /// <summary>Left out by the server when false.</summary>
    [JsonPropertyName("succeeded")] public bool Succeeded { get; set; }

    [JsonPropertyName("responses")] public List<ResponseOp> Responses { get; set; } = [];
}

internal sealed class LeaseGrantRequest
{
    [JsonPropertyName("TTL")] public long Ttl { get; set; }
    [JsonPropertyName("ID")] public long? Id { get; set; }
}

internal sealed class LeaseGrantResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("ID")] public long Id { get; set; }
    [JsonPropertyName("TTL")] public long Ttl { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
}

internal sealed class LeaseIdRequest
{
    [JsonPropertyName("ID")] public long Id { get; set; }
    [JsonPropertyName("keys")] public bool? Keys { get; set; }
}

internal sealed class LeaseKeepAliveResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("ID")] public long Id { get; set; }

    /// <summary>The renewed TTL in seconds; 0 (left out) means the lease does not exist any more.</summary>
    [JsonPropertyName("TTL")] public long Ttl { get; set; }
}

/// <summary>One message of a streamed response: a result, or the error that ended the stream.</summary>
internal sealed class StreamMessage<T>
    where T : class
{
    [JsonPropertyName("result")] public T? Result { get; set; }
    [JsonPropertyName("error")] public StreamError? Error { get; set; }
}

/// <summary>The error object grpc-gateway writes into a stream (and, in 3.4, the shape of unary error bodies too).</summary>
internal sealed class StreamError
{
    [JsonPropertyName("grpc_code")] public int GrpcCode { get; set; }
    [JsonPropertyName("http_code")] public int HttpCode { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("http_status")] public string? HttpStatus { get; set; }
}

internal sealed class LeaseTimeToLiveResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("ID")] public long Id { get; set; }

    /// <summary>Remaining seconds; -1 when the lease does not exist.</summary>
    [JsonPropertyName("TTL")] public long Ttl { get; set; }

    [JsonPropertyName("grantedTTL")] public long GrantedTtl { get; set; }
    [JsonPropertyName("keys")] public List<byte[]> Keys { get; set; } = [];
}

internal sealed class EmptyResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
}

internal sealed class AuthenticateRequest
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("password")] public string Password { get; set; } = "";
}

internal sealed class AuthenticateResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("token")] public string? Token { get; set; }
}

/// <summary>The body of a failed unary call: <c>{"error":"…","message":"…","code":N}</c>, N a gRPC status code.</summary>
internal sealed class ErrorBody
{
    [JsonPropertyName("error")] public string? Error { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("code")] public int Code { get; set; }
}

internal sealed class WatchRequest
{
    [JsonPropertyName("create_request")] public WatchCreateRequest? CreateRequest { get; set; }
}

internal sealed class WatchCreateRequest
{
    [JsonPropertyName("key")] public byte[] Key { get; set; } = [];
    [JsonPropertyName("range_end")] public byte[]? RangeEnd { get; set; }
    [JsonPropertyName("start_revision")] public long? StartRevision { get; set; }
    [JsonPropertyName("progress_notify")] public bool? ProgressNotify { get; set; }
    [JsonPropertyName("prev_kv")] public bool? PrevKv { get; set; }
}

internal sealed class WatchResponse
{
    [JsonPropertyName("header")] public ResponseHeader Header { get; set; } = new();
    [JsonPropertyName("watch_id")] public long WatchId { get; set; }
    [JsonPropertyName("created")] public bool Created { get; set; }
    [JsonPropertyName("canceled")] public bool Canceled { get; set; }
    [JsonPropertyName("compact_revision")] public long CompactRevision { get; set; }
    [JsonPropertyName("cancel_reason")] public string? CancelReason { get; set; }
    [JsonPropertyName("events")] public List<WatchEvent> Events { get; set; } = [];
}

internal sealed class WatchEvent
{
    /// <summary>"DELETE" for a deletion; left out (PUT) for a write.</summary>
    [JsonPropertyName("type")] public string? Type { get; set; }

    [JsonPropertyName("kv")] public KeyValue Kv { get; set; } = new();
    [JsonPropertyName("prev_kv")] public KeyValue? PrevKv { get; set; }

    [JsonIgnore] public bool IsDelete => string.Equals(Type, "DELETE", StringComparison.Ordinal);
}
