using DistributedCron.Registry.Etcd;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Hosting;

/// <summary>Runs the host's Dcron node on etcd.</summary>
public static class EtcdDcronBuilderExtensions
{
    /// <summary>The registry's name and configuration sub-section: <c>Dcron:Etcd</c>.</summary>
    public const string SectionName = "Etcd";

    /// <summary>
    /// Uses an <see cref="EtcdRegistry"/>. Its <see cref="EtcdRegistryOptions"/> are bound from <c>Dcron:Etcd</c>
    /// and validated at startup: <c>Endpoints</c> (an array, or one comma-separated string such as
    /// <c>http://etcd-a:2379,http://etcd-b:2379</c>; given endpoints replace the default <c>http://127.0.0.1:2379</c>),
    /// <c>Username</c>, <c>Password</c>, <c>Namespace</c>, <c>RequestTimeout</c>, <c>DialTimeout</c>,
    /// <c>WatchMaxRetryDelay</c>, <c>CaCertificatePath</c>, <c>ClientCertificatePath</c>, <c>ClientKeyPath</c>,
    /// <c>ServerName</c>, <c>MaxPayloadBytes</c>.
    /// </summary>
    /// <param name="builder">The Dcron builder.</param>
    /// <param name="configure">Edits the registry options after binding (loaded certificates, for example).</param>
    public static DcronBuilder UseEtcd(this DcronBuilder builder, Action<EtcdRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseRegistry<EtcdRegistryOptions>(
            SectionName,
            (sp, options) => new EtcdRegistry(options, sp.GetService<ILogger<EtcdRegistry>>()),
            configure,
            o => o.Validate(),
            Bind);
    }

    /// <summary>Binds the section; endpoints from configuration replace the default list instead of being appended to it.</summary>
    private static void Bind(IConfigurationSection section, EtcdRegistryOptions options)
    {
        var endpoints = section.GetSection(nameof(EtcdRegistryOptions.Endpoints));
        section.Bind(options);
        if (!endpoints.Exists())
        {
            return;
        }

        var list = endpoints.Value is { } single
            ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : endpoints.GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Length > 0).ToArray();
        options.Endpoints = list.ToList();
    }
}
