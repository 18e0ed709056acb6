using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DistributedCron.Hosting;

/// <summary>Adds a Dcron node to a host's services.</summary>
public static class DcronServiceCollectionExtensions
{
    /// <summary>
    /// Adds one Dcron node that starts with the host and stops gracefully with it, its settings read from the
    /// configuration section <c>Dcron</c>. See <see cref="AddDcron(IServiceCollection, string, Action{DcronBuilder}?)"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Chooses the registry (required: <c>UseInMemory()</c>, <c>UseRedis(…)</c>, …) and adds tasks.</param>
    public static DcronBuilder AddDcron(this IServiceCollection services, Action<DcronBuilder>? configure = null) =>
        services.AddDcron(DcronHostingOptions.DefaultSectionName, configure);

    /// <summary>
    /// Adds one Dcron node to the host:
    /// <list type="bullet">
    /// <item><see cref="DcronHostingOptions"/> bound from the configuration section <paramref name="sectionPath"/> and
    /// validated when the host starts (each bad value named by its key);</item>
    /// <item>the node itself, a singleton <see cref="Dcron"/> (resolve it to add dynamic tasks or read its view),
    /// logging through the container's <c>ILoggerFactory</c> and timed by the container's <see cref="TimeProvider"/>
    /// (<see cref="TimeProvider.System"/> is registered when none is);</item>
    /// <item>a hosted service that starts the node with the host (the host's start fails if the registry does) and
    /// stops it on shutdown: the node turns <c>Leaving</c>, running tasks drain within the node's
    /// <see cref="DcronHostingOptions.ShutdownTimeout"/> and the host's shutdown timeout, then it unregisters.</item>
    /// </list>
    /// Calling it again returns a builder for the same node (the section path must match).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="sectionPath">The configuration section of the node's settings, for example <c>Dcron</c> or <c>Scheduling:Dcron</c>.</param>
    /// <param name="configure">Chooses the registry and adds tasks (the same can be done on the returned builder).</param>
    /// <exception cref="InvalidOperationException">Dcron was added already with another section path.</exception>
    public static DcronBuilder AddDcron(this IServiceCollection services, string sectionPath, Action<DcronBuilder>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(DcronHostingMarker))?.ImplementationInstance as DcronHostingMarker;
        if (existing is not null && existing.SectionPath != sectionPath)
        {
            throw new InvalidOperationException(
                $"Dcron was already added with the configuration section '{existing.SectionPath}'; a host runs one node, so it cannot also read '{sectionPath}'.");
        }

        if (existing is null)
        {
            services.AddSingleton(new DcronHostingMarker(sectionPath));
            services.AddOptions<DcronHostingOptions>().ValidateOnStart();
            services.AddSingleton<IConfigureOptions<DcronHostingOptions>>(
                sp => new SectionBinding<DcronHostingOptions>(sp, sectionPath, SectionBinding<DcronHostingOptions>.Default));
            services.AddSingleton<IValidateOptions<DcronHostingOptions>>(new DcronHostingOptionsValidator(sectionPath));
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton(sp => DcronFactory.Create(sp, sectionPath));
            services.AddHostedService<DcronHostedService>();
        }

        var builder = new DcronBuilder(services, sectionPath);
        configure?.Invoke(builder);
        return builder;
    }
}

/// <summary>Marks that Dcron was added, and with which configuration section.</summary>
internal sealed record DcronHostingMarker(string SectionPath);
