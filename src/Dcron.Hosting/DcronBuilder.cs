using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace DistributedCron.Hosting;

/// <summary>
/// Configures the Dcron node of a host: which registry it uses, code-only settings and the static tasks it runs.
/// Returned by <see cref="DcronServiceCollectionExtensions.AddDcron(IServiceCollection, Action{DcronBuilder}?)"/>.
/// </summary>
/// <remarks>
/// Registry packages add their own <c>UseXxx</c> extension on top of
/// <see cref="UseRegistry{TOptions}(string, Func{IServiceProvider, TOptions, IRegistry}, Action{TOptions}?, Action{TOptions}?, Action{IConfigurationSection, TOptions}?)"/>:
/// <c>UseRedis</c> (Dcron.Hosting.Redis), <c>UseEtcd</c> (Dcron.Hosting.Etcd), <c>UseZooKeeper</c>
/// (Dcron.Hosting.ZooKeeper), <c>UseConsul</c> (Dcron.Hosting.Consul). The last registry chosen wins.
/// </remarks>
public sealed partial class DcronBuilder
{
    internal DcronBuilder(IServiceCollection services, string sectionPath)
    {
        Services = services;
        SectionPath = sectionPath;
    }

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The configuration section the node's settings are read from (<c>Dcron</c> by default); a registry's section is <c>{SectionPath}:{registry name}</c>.</summary>
    public string SectionPath { get; }

    /// <summary>Changes settings in code, after configuration was bound; the result is validated at startup like configuration.</summary>
    /// <param name="configure">Edits the settings.</param>
    public DcronBuilder Configure(Action<DcronHostingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }

    /// <summary>
    /// Sets options that only code can set (<see cref="DcronOptions.Assigner"/>, <see cref="DcronOptions.ErrorHandler"/>,
    /// <see cref="DcronOptions.DynamicTaskHandler"/>, <see cref="DcronOptions.DynamicTaskOptions"/>, …) on the node
    /// being created, after the configured settings were applied. Hooks run in the order added; the node's constructor
    /// validates the result.
    /// </summary>
    /// <param name="configure">Edits the node's options; it may resolve singletons from the provider.</param>
    public DcronBuilder ConfigureNode(Action<IServiceProvider, DcronOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddSingleton(new DcronNodeConfiguration(configure));
        return this;
    }

    /// <summary>
    /// Runs dynamic tasks with <typeparamref name="THandler"/>, resolved from a new DI scope per run (registered as
    /// scoped unless already registered). Sets <see cref="DcronOptions.DynamicTaskHandler"/>; a
    /// <see cref="ConfigureNode"/> hook may still replace it.
    /// </summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    public DcronBuilder UseDynamicTaskHandler<THandler>()
        where THandler : class, IDynamicCronTaskHandler
    {
        Services.TryAddScoped<THandler>();
        Services.RemoveAll<DynamicTaskHandlerRegistration>();
        Services.AddSingleton(new DynamicTaskHandlerRegistration(
            sp => new ScopedDynamicTaskHandler<THandler>(sp.GetRequiredService<IServiceScopeFactory>()).RunAsync));
        return this;
    }

    /// <summary>Uses an <see cref="InMemoryRegistry"/>: a single-process cluster (every node must share this process), for development and tests.</summary>
    /// <param name="configure">Edits the registry's options after <c>{SectionPath}:InMemory</c> was bound (set <see cref="InMemoryRegistryOptions.Store"/> to share a store with other registries).</param>
    /// <remarks>The registry's store uses the container's <see cref="TimeProvider"/> unless a store is given.</remarks>
    public DcronBuilder UseInMemory(Action<InMemoryRegistryOptions>? configure = null) =>
        UseRegistry<InMemoryRegistryOptions>(
            "InMemory",
            (sp, o) => new InMemoryRegistry(o.Store is null ? sp.GetRequiredService<TimeProvider>() : null, o),
            configure,
            o => o.Validate());

    /// <summary>
    /// Uses the registry <paramref name="factory"/> creates (once, as a singleton). A registry created here is disposed
    /// by the container after the node; an instance the factory merely returns from elsewhere is disposed too, so
    /// return a new one (or wrap a shared one).
    /// </summary>
    /// <param name="name">The registry's name, for diagnostics (the health check reports it).</param>
    /// <param name="factory">Creates the registry.</param>
    public DcronBuilder UseRegistry(string name, Func<IServiceProvider, IRegistry> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Services.RemoveAll<IRegistry>();
        Services.AddSingleton(factory);
        Services.RemoveAll<DcronRegistrySelection>();
        Services.AddSingleton(new DcronRegistrySelection(name));
        return this;
    }

    /// <summary>
    /// Uses a registry configured by options of type <typeparamref name="TOptions"/>: they are bound from the
    /// configuration section <c>{SectionPath}:{name}</c>, then edited by <paramref name="configure"/>, then checked
    /// by <paramref name="validate"/> when the host starts (an <see cref="ArgumentException"/> it throws fails the
    /// start, reported under the key <c>{SectionPath}:{name}:{ParamName}</c>). This is what registry packages build
    /// their <c>UseXxx</c> extension on.
    /// </summary>
    /// <typeparam name="TOptions">The registry's options type.</typeparam>
    /// <param name="name">The registry's name: the configuration sub-section, and what the health check reports.</param>
    /// <param name="factory">Creates the registry (once) from the container and the final options.</param>
    /// <param name="configure">Edits the options in code after binding.</param>
    /// <param name="validate">Throws <see cref="ArgumentException"/> naming the first bad setting (typically the options' own <c>Validate()</c>).</param>
    /// <param name="bind">Replaces the default binding (<c>section.Bind(options)</c>), for options the binder cannot handle as they are.</param>
    public DcronBuilder UseRegistry<TOptions>(
        string name,
        Func<IServiceProvider, TOptions, IRegistry> factory,
        Action<TOptions>? configure = null,
        Action<TOptions>? validate = null,
        Action<IConfigurationSection, TOptions>? bind = null)
        where TOptions : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        var section = $"{SectionPath}:{name}";
        var optionsBuilder = Services.AddOptions<TOptions>();
        if (!Services.Any(d => d.ServiceType == typeof(RegistryOptionsMarker<TOptions>)))
        {
            // Bound and validated once, however often the registry is chosen; code edits accumulate.
            Services.AddSingleton(new RegistryOptionsMarker<TOptions>());
            Services.AddSingleton<IConfigureOptions<TOptions>>(sp => new SectionBinding<TOptions>(sp, section, bind ?? SectionBinding<TOptions>.Default));
            if (validate is not null)
            {
                Services.AddSingleton<IValidateOptions<TOptions>>(new RegistryOptionsValidator<TOptions>(section, validate));
                optionsBuilder.ValidateOnStart();
            }
        }

        if (configure is not null)
        {
            Services.Configure(configure);
        }

        return UseRegistry(name, sp => factory(sp, sp.GetRequiredService<IOptions<TOptions>>().Value));
    }
}

/// <summary>The name of the registry chosen on the builder.</summary>
internal sealed record DcronRegistrySelection(string Name);

/// <summary>Marks that the options of one registry type are bound and validated already.</summary>
internal sealed class RegistryOptionsMarker<TOptions>;
