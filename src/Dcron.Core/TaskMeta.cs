using System.Text.Json.Serialization;

namespace DistributedCron;

/// <summary>
/// The stored description of a task. Dynamic tasks live in the registry as this record; static tasks carry one
/// locally. JSON names match the Go library (<c>name</c>, <c>cron_format</c>, …).
/// </summary>
public sealed record TaskMeta
{
    /// <summary>The task name: 1–200 characters of <c>[A-Za-z0-9._:@-]</c>, starting with a letter or digit.</summary>
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>The cron expression (see <c>CronExpression</c>).</summary>
    [JsonPropertyName("cron_format")]
    public required string CronFormat { get; init; }

    /// <summary>Runs once in the cluster, then the task is tombstoned.</summary>
    [JsonPropertyName("one_shot")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool OneShot { get; init; }

    /// <summary>After a run the task is tombstoned.</summary>
    [JsonPropertyName("executed_and_mark_deleted")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool ExecutedAndMarkDeleted { get; init; }

    /// <summary>After a run every trace of the task is erased (takes precedence over tombstoning).</summary>
    [JsonPropertyName("executed_and_cleanup")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool ExecutedAndCleanup { get; init; }

    /// <summary>Free text handed to the dynamic task handler (at most <see cref="DcronLimits.MaxPayloadBytes"/> UTF-8 bytes by default).</summary>
    [JsonPropertyName("payload")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? Payload { get; init; }
}
