using DistributedCron.Registry.Consul;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Hosting;

/// <summary>Runs the host's Dcron node on Consul.</summary>
public static class ConsulDcronBuilderExtensions
{
    /// <summary>The registry's name and configuration sub-section: <c>Dcron:Consul</c>.</summary>
    public const string SectionName = "Consul";

    /// <summary>
    /// Uses a <see cref="ConsulRegistry"/>. Its <see cref="ConsulRegistryOptions"/> are bound from <c>Dcron:Consul</c>
    /// and validated at startup: <c>Address</c> (default <c>http://127.0.0.1:8500</c>), <c>Token</c>,
    /// <c>Datacenter</c>, <c>Namespace</c>, <c>RequestTimeout</c>, <c>ConnectTimeout</c>, <c>BlockingWait</c>,
    /// <c>MinSessionTtl</c>, <c>WatchMaxRetryDelay</c>, <c>CaCertificatePath</c>, <c>ClientCertificatePath</c>,
    /// <c>ClientKeyPath</c>, <c>ServerName</c>, <c>InsecureSkipVerify</c>, <c>MaxPayloadBytes</c>. Consul's sessions
    /// last at least 10 s; a dead node still leaves the view after <c>Dcron:NodeTtl</c> of heartbeat silence (see
    /// <see cref="ConsulRegistryOptions.MinSessionTtl"/>).
    /// </summary>
    /// <param name="builder">The Dcron builder.</param>
    /// <param name="configure">Edits the registry options after binding (loaded certificates, a token from a vault, …).</param>
    public static DcronBuilder UseConsul(this DcronBuilder builder, Action<ConsulRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseRegistry<ConsulRegistryOptions>(
            SectionName,
            (sp, options) => new ConsulRegistry(options, sp.GetService<ILogger<ConsulRegistry>>()),
            configure,
            o => o.Validate());
    }
}
