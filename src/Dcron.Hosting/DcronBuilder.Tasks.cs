using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DistributedCron.Hosting;

public sealed partial class DcronBuilder
{
    /// <summary>
    /// Adds a static task implemented by <typeparamref name="TTask"/>, resolved from a new DI scope for every run
    /// (the scope is disposed, asynchronously where supported, when the run ends). <typeparamref name="TTask"/> is
    /// registered as scoped unless it is registered already. Register the task on every node that should be able to
    /// run it; each occurrence runs on one node of the cluster.
    /// </summary>
    /// <typeparam name="TTask">The task type.</typeparam>
    /// <param name="name">1–200 characters of <c>[A-Za-z0-9._:@-]</c>, starting with a letter or digit; unique per node.</param>
    /// <param name="cron">A cron expression (5 or 6 fields, a macro, <c>@every 1h30m</c>, optional <c>CRON_TZ=</c> prefix).</param>
    /// <param name="options">Per-task settings (timeout, retry, misfire, concurrency); checked when the node is created.</param>
    /// <exception cref="ArgumentException">The name is illegal or already used by another task of this builder.</exception>
    /// <exception cref="CronFormatException">The cron text is invalid.</exception>
    public DcronBuilder AddCronTask<TTask>(string name, string cron, TaskOptions? options = null)
        where TTask : class, ICronTask =>
        AddScopedTask<TTask>(name, cron, oneShot: false, options);

    /// <summary>
    /// Adds a static one-shot task implemented by <typeparamref name="TTask"/>: it runs once in the cluster, at its
    /// first occurrence, then is tombstoned in the registry (see <see cref="Dcron.AddOneShotTask"/>). Resolved from a
    /// new DI scope like <see cref="AddCronTask{TTask}"/>.
    /// </summary>
    /// <inheritdoc cref="AddCronTask{TTask}" path="/typeparam|/param|/exception"/>
    public DcronBuilder AddOneShotCronTask<TTask>(string name, string cron, TaskOptions? options = null)
        where TTask : class, ICronTask =>
        AddScopedTask<TTask>(name, cron, oneShot: true, options);

    /// <summary>
    /// Adds a static task run by <paramref name="handler"/> with the service provider of a new DI scope per run
    /// (disposed when the run ends). See <see cref="AddCronTask{TTask}"/>.
    /// </summary>
    /// <param name="name">1–200 characters of <c>[A-Za-z0-9._:@-]</c>, starting with a letter or digit; unique per node.</param>
    /// <param name="cron">A cron expression.</param>
    /// <param name="handler">Runs one occurrence; resolve what it needs from the scoped provider.</param>
    /// <param name="options">Per-task settings.</param>
    /// <exception cref="ArgumentException">The name is illegal or already used by another task of this builder.</exception>
    /// <exception cref="CronFormatException">The cron text is invalid.</exception>
    public DcronBuilder AddCronTask(string name, string cron, Func<IServiceProvider, TaskContext, Task> handler, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Declare(name, cron);
        Services.AddSingleton(new DcronTaskRegistration(
            name, cron, oneShot: false, options, sp => new ScopedDelegateTask(sp.GetRequiredService<IServiceScopeFactory>(), handler)));
        return this;
    }

    private DcronBuilder AddScopedTask<TTask>(string name, string cron, bool oneShot, TaskOptions? options)
        where TTask : class, ICronTask
    {
        Declare(name, cron);
        Services.TryAddScoped<TTask>();
        Services.AddSingleton(new DcronTaskRegistration(
            name, cron, oneShot, options, sp => new ScopedCronTask<TTask>(sp.GetRequiredService<IServiceScopeFactory>())));
        return this;
    }

    /// <summary>Checks the name and the cron text now, so a mistake fails where it is written rather than at startup.</summary>
    private void Declare(string name, string cron)
    {
        DcronLimits.ValidateTaskName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(cron);
        _ = CronExpression.Parse(cron);
        foreach (var d in Services)
        {
            if (d.ServiceType == typeof(DcronTaskRegistration) && d.ImplementationInstance is DcronTaskRegistration r && r.Name == name)
            {
                throw new ArgumentException($"A cron task named '{name}' is already added to this host's Dcron node.", nameof(name));
            }
        }
    }
}
