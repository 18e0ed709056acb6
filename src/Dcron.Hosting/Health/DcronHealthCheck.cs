using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DistributedCron.Hosting;

/// <summary>
/// Healthy when the host's node is running, the registry answers, and the registry lists the node as
/// <see cref="NodeStatus.Working"/>; otherwise the registration's failure status (unhealthy by default) with the reason.
/// </summary>
internal sealed class DcronHealthCheck(Dcron dcron, IRegistry registry, string registryName) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failure = context.Registration.FailureStatus;
        var data = new Dictionary<string, object>
        {
            ["nodeId"] = dcron.NodeId,
            ["registry"] = registryName,
        };
        if (!dcron.IsRunning)
        {
            return new HealthCheckResult(failure, $"Dcron node {dcron.NodeId} is not running.", data: data);
        }

        IReadOnlyList<Node> nodes;
        try
        {
            nodes = await registry.GetNodesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Reported in the result (with the exception), which is what a health check is for.
            return new HealthCheckResult(failure, $"The {registryName} registry of Dcron node {dcron.NodeId} is unreachable: {ex.Message}", ex, data);
        }

        var self = nodes.FirstOrDefault(n => n.Id == dcron.NodeId);
        var working = nodes.Count(n => n.Status == NodeStatus.Working);
        data["workingNodes"] = working;
        data["ownedTasks"] = dcron.GetAssignedTasks().Count;
        if (self is null)
        {
            return new HealthCheckResult(
                failure,
                $"Dcron node {dcron.NodeId} is not registered in the {registryName} registry (its registration expired; the next successful heartbeat registers it again).",
                data: data);
        }

        data["status"] = self.Status.ToString();
        if (self.Status != NodeStatus.Working)
        {
            return new HealthCheckResult(failure, $"Dcron node {dcron.NodeId} is {self.Status}, not Working.", data: data);
        }

        return HealthCheckResult.Healthy(
            $"Dcron node {dcron.NodeId} is working on the {registryName} registry: {working} working node(s), {data["ownedTasks"]} task(s) owned here.",
            data);
    }
}
