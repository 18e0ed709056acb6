using System.Text.Json.Serialization;

namespace DistributedCron.Registry.ZooKeeper;

/// <summary>
/// The data of <c>tasks/{name}</c>: the task's metadata and its tombstone in one znode, so that every read (and
/// every watch notification) sees a state the name really had, and every change is one versioned write.
/// A name with neither metadata nor tombstone has no znode.
/// </summary>
internal sealed record TaskRecord
{
    /// <summary>The stored metadata, or null.</summary>
    [JsonPropertyName("meta")]
    public TaskMeta? Meta { get; init; }

    /// <summary>True when the name is tombstoned.</summary>
    [JsonPropertyName("deleted")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Deleted { get; init; }

    /// <summary>True when the record holds nothing (its znode is deleted instead of written).</summary>
    [JsonIgnore]
    public bool IsEmpty => Meta is null && !Deleted;
}
