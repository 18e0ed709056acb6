using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DistributedCron.Hosting;

/// <summary>Adds the Dcron node's health check.</summary>
public static class DcronHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the host's Dcron node (added with <c>AddDcron</c>): healthy when the node is running, its
    /// registry answers, and the registry lists the node as working. Data: <c>nodeId</c>, <c>registry</c>,
    /// <c>status</c>, <c>workingNodes</c>, <c>ownedTasks</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name (default <c>dcron</c>).</param>
    /// <param name="failureStatus">What a failed check reports (default <see cref="HealthStatus.Unhealthy"/>).</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <param name="timeout">How long the check may wait for the registry (default: no limit of its own).</param>
    public static IHealthChecksBuilder AddDcron(
        this IHealthChecksBuilder builder,
        string name = "dcron",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new DcronHealthCheck(
                sp.GetRequiredService<Dcron>(),
                sp.GetRequiredService<IRegistry>(),
                sp.GetService<DcronRegistrySelection>()?.Name ?? "custom"),
            failureStatus,
            tags,
            timeout));
    }
}
