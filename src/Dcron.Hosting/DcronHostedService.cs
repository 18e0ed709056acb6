using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DistributedCron.Hosting;

/// <summary>
/// Starts the host's Dcron node with the host and stops it with the host. The node is resolved only when the host
/// starts, after the host validated the options, so a configuration error is reported as such.
/// </summary>
/// <remarks>
/// Start returns once the node is working (registered, first view loaded); a registry failure fails the host's start.
/// Stop runs the node's graceful stop: <c>Leaving</c>, drain, unregister. The host's stop token is cancelled when the
/// host's shutdown timeout runs out; the node then cancels the tasks still running and unregisters.
/// </remarks>
internal sealed class DcronHostedService(IServiceProvider services) : IHostedService
{
    private Dcron? _dcron;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var dcron = services.GetRequiredService<Dcron>();
        _dcron = dcron;
        await dcron.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        _dcron is { } dcron ? dcron.StopAsync(cancellationToken) : Task.CompletedTask;
}
