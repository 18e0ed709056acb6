using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DistributedCron.Hosting;

/// <summary>
/// Binds the options <typeparamref name="TOptions"/> from one configuration section of the container's
/// <see cref="IConfiguration"/>. Without a configuration in the container (a bare service collection), nothing is
/// bound and the code defaults apply.
/// </summary>
internal sealed class SectionBinding<TOptions>(IServiceProvider services, string sectionPath, Action<IConfigurationSection, TOptions> bind)
    : IConfigureOptions<TOptions>
    where TOptions : class
{
    /// <summary>Binds with the configuration binder's defaults.</summary>
    public static void Default(IConfigurationSection section, TOptions options) => section.Bind(options);

    public void Configure(TOptions options)
    {
        if (services.GetService<IConfiguration>() is { } configuration)
        {
            bind(configuration.GetSection(sectionPath), options);
        }
    }
}

/// <summary>
/// Runs a registry options type's own <c>Validate()</c> when the host starts and reports its complaint under the
/// configuration key of the offending setting (<c>Dcron:Redis:Namespace: …</c>).
/// </summary>
internal sealed class RegistryOptionsValidator<TOptions>(string sectionPath, Action<TOptions> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (!string.IsNullOrEmpty(name) && name != Microsoft.Extensions.Options.Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            validate(options);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            // Reported, not swallowed: the failure becomes the host's start error.
            var key = string.IsNullOrEmpty(ex.ParamName) ? sectionPath : $"{sectionPath}:{ex.ParamName}";
            return ValidateOptionsResult.Fail($"{key}: {ex.Message}");
        }
    }
}
