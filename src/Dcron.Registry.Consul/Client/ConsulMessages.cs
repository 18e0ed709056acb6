using System.Text.Json.Serialization;

namespace DistributedCron.Registry.Consul.Client;

/// <summary>One KV entry as Consul returns it (<c>DirEntry</c>; <c>Value</c> is base64 in JSON, null when empty).</summary>
internal sealed record KvEntry
{
    public ulong CreateIndex { get; init; }

    public ulong ModifyIndex { get; init; }

    public ulong LockIndex { get; init; }

    public string Key { get; init; } = "";

    public ulong Flags { get; init; }

    public byte[]? Value { get; init; }

    /// <summary>The session holding the key's lock; Consul leaves the field out when there is none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Session { get; init; }
}

/// <summary>The entries under a prefix and the query's <c>X-Consul-Index</c>.</summary>
internal sealed record KvList(IReadOnlyList<KvEntry> Entries, ulong Index);

/// <summary>How a KV PUT is conditioned: <c>?cas=</c>, <c>?acquire=</c> or <c>?release=</c> (at most one).</summary>
internal readonly record struct KvWrite(ulong? Cas = null, string? Acquire = null, string? Release = null)
{
    public static KvWrite Plain => default;

    public static KvWrite CheckAndSet(ulong index) => new(Cas: index);

    public static KvWrite AcquireWith(string session) => new(Acquire: session);
}

/// <summary>The body of <c>PUT /v1/session/create</c>.</summary>
internal sealed record SessionCreateRequest
{
    public string? Name { get; init; }

    public string? Node { get; init; }

    public string? LockDelay { get; init; }

    public string? Behavior { get; init; }

    public string? TTL { get; init; }

    /// <summary>Pre-1.7 name of the node checks; <c>[]</c> means "no health checks" on every version.</summary>
    public IReadOnlyList<string>? Checks { get; init; }

    public IReadOnlyList<string>? NodeChecks { get; init; }
}

/// <summary>The answer of <c>PUT /v1/session/create</c>.</summary>
internal sealed record SessionCreateResponse
{
    public string ID { get; init; } = "";
}

/// <summary>A session as <c>/v1/session/info</c>, <c>renew</c> and <c>list</c> return it.</summary>
internal sealed record SessionInfo
{
    public string ID { get; init; } = "";

    public string? Name { get; init; }

    public string? Node { get; init; }

    public long LockDelay { get; init; }

    public string? Behavior { get; init; }

    public string? TTL { get; init; }

    public ulong CreateIndex { get; init; }

    public ulong ModifyIndex { get; init; }
}

/// <summary>One KV operation of a <c>/v1/txn</c> request.</summary>
internal sealed record TxnKvOp
{
    public required string Verb { get; init; }

    public required string Key { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public byte[]? Value { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public ulong Flags { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ulong? Index { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Session { get; init; }

    public static TxnKvOp Cas(string key, byte[] value, ulong index) => new() { Verb = "cas", Key = key, Value = value, Index = index };

    public static TxnKvOp CheckNotExists(string key) => new() { Verb = "check-not-exists", Key = key };

    public static TxnKvOp CheckSession(string key, string session) => new() { Verb = "check-session", Key = key, Session = session };

    public static TxnKvOp Delete(string key) => new() { Verb = "delete", Key = key };

    public static TxnKvOp DeleteTree(string prefix) => new() { Verb = "delete-tree", Key = prefix };
}

/// <summary>The wrapper Consul expects around each operation: <c>{"KV": {...}}</c>.</summary>
internal sealed record TxnOp
{
    public required TxnKvOp KV { get; init; }
}

/// <summary>One result of a committed transaction.</summary>
internal sealed record TxnResultItem
{
    public KvEntry? KV { get; init; }
}

/// <summary>One failed operation of a rolled-back transaction.</summary>
internal sealed record TxnError
{
    public int OpIndex { get; init; }

    public string What { get; init; } = "";
}

/// <summary>The answer of <c>/v1/txn</c> (200 when committed, 409 when rolled back).</summary>
internal sealed record TxnResponse
{
    public IReadOnlyList<TxnResultItem>? Results { get; init; }

    public IReadOnlyList<TxnError>? Errors { get; init; }

    [JsonIgnore]
    public bool Committed => Errors is not { Count: > 0 };
}

/// <summary>System.Text.Json source generation for the Consul wire types (Consul uses PascalCase names).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<KvEntry>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(SessionCreateRequest))]
[JsonSerializable(typeof(SessionCreateResponse))]
[JsonSerializable(typeof(List<SessionInfo>))]
[JsonSerializable(typeof(List<TxnOp>))]
[JsonSerializable(typeof(TxnResponse))]
[JsonSerializable(typeof(bool))]
internal sealed partial class ConsulJsonContext : JsonSerializerContext;
