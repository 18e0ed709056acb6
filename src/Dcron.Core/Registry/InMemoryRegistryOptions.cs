namespace DistributedCron;

/// <summary>Options of an <see cref="InMemoryRegistry"/>.</summary>
public sealed class InMemoryRegistryOptions
{
    /// <summary>The default namespace.</summary>
    public const string DefaultNamespace = "dcron";

    /// <summary>The namespace this client works in (default <c>dcron</c>); clients of one store in different namespaces never see each other.</summary>
    public string Namespace { get; set; } = DefaultNamespace;

    /// <summary>The store to use; null creates a private one. Share a store between registries to model one server.</summary>
    public InMemoryStore? Store { get; set; }

    /// <summary>
    /// How many undelivered events one watch queues (default 4,096). When a slow consumer lets its queue fill up,
    /// the backlog is dropped and replaced by a snapshot, so the registry never waits for a consumer.
    /// </summary>
    public int WatchBufferCapacity { get; set; } = 4096;

    /// <summary>The largest task payload accepted, in UTF-8 bytes (default <see cref="DcronLimits.MaxPayloadBytes"/>).</summary>
    public int MaxPayloadBytes { get; set; } = DcronLimits.MaxPayloadBytes;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        ValidateNamespace(Namespace);
        if (WatchBufferCapacity < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(WatchBufferCapacity), WatchBufferCapacity, "A watch buffer holds at least 2 events.");
        }

        if (MaxPayloadBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadBytes), MaxPayloadBytes, "The payload limit cannot be negative.");
        }
    }

    internal static void ValidateNamespace(string? @namespace)
    {
        if (string.IsNullOrEmpty(@namespace) || @namespace.Length > 200 || @namespace.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException(
                $"Illegal namespace '{@namespace}': use 1–200 characters without whitespace or control characters.", nameof(Namespace));
        }
    }
}
