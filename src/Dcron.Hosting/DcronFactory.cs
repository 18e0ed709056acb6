using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DistributedCron.Hosting;

/// <summary>Creates the host's <see cref="Dcron"/> node from the container: settings, registry, clock, logging, hooks and tasks.</summary>
internal static class DcronFactory
{
    public static Dcron Create(IServiceProvider services, string sectionPath)
    {
        // Reading the options runs the validators: a bad setting fails here naming its key, before the registry is built.
        var settings = services.GetRequiredService<IOptions<DcronHostingOptions>>().Value;
        var registry = services.GetService<IRegistry>() ?? throw new InvalidOperationException(
            "No Dcron registry is configured: call UseInMemory(), UseRedis(…), UseEtcd(…), UseZooKeeper(…), UseConsul(…) or UseRegistry(…) on the builder of AddDcron().");
        var time = services.GetRequiredService<TimeProvider>();
        var loggerFactory = services.GetService<ILoggerFactory>();
        var dynamicHandler = services.GetService<DynamicTaskHandlerRegistration>();
        var hooks = services.GetServices<DcronNodeConfiguration>().ToArray();

        var inHook = false;
        Dcron dcron;
        try
        {
            dcron = new Dcron(registry, o =>
            {
                settings.ApplyTo(o);
                o.TimeProvider = time;
                o.LoggerFactory = loggerFactory;
                if (dynamicHandler is not null)
                {
                    o.DynamicTaskHandler = dynamicHandler.Create(services);
                }

                inHook = true;
                foreach (var hook in hooks)
                {
                    hook.Apply(services, o);
                }

                inHook = false;
            });
        }
        catch (ArgumentException ex) when (!inHook)
        {
            // The node's own validation, for a rule the settings validator does not know or a value set by a hook.
            var key = string.IsNullOrEmpty(ex.ParamName) ? sectionPath : $"{sectionPath}:{ex.ParamName}";
            throw new InvalidOperationException($"Invalid Dcron setting {key}: {ex.Message}", ex);
        }

        try
        {
            foreach (var task in services.GetServices<DcronTaskRegistration>())
            {
                task.AddTo(dcron, services);
            }
        }
        catch
        {
            // Not started, so this only releases its timers; the task's error is what the host reports.
            dcron.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return dcron;
    }
}
