using System.Text.Json.Serialization;

namespace DistributedCron.Registry.Etcd.Client;

/// <summary>
/// Source-generated serializer for the gateway's messages: no naming policy (names are given explicitly and are
/// case-sensitive on the server), int64 read from and written as strings, null members left out of requests.
/// </summary>
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = false)]
[JsonSerializable(typeof(RangeRequest))]
[JsonSerializable(typeof(RangeResponse))]
[JsonSerializable(typeof(PutRequest))]
[JsonSerializable(typeof(PutResponse))]
[JsonSerializable(typeof(DeleteRangeRequest))]
[JsonSerializable(typeof(DeleteRangeResponse))]
[JsonSerializable(typeof(TxnRequest))]
[JsonSerializable(typeof(TxnResponse))]
[JsonSerializable(typeof(LeaseGrantRequest))]
[JsonSerializable(typeof(LeaseGrantResponse))]
[JsonSerializable(typeof(LeaseIdRequest))]
[JsonSerializable(typeof(StreamMessage<LeaseKeepAliveResponse>))]
[JsonSerializable(typeof(LeaseTimeToLiveResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(AuthenticateRequest))]
[JsonSerializable(typeof(AuthenticateResponse))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(WatchRequest))]
[JsonSerializable(typeof(StreamMessage<WatchResponse>))]
internal sealed partial class EtcdJsonContext : JsonSerializerContext
{
}
