using Microsoft.Extensions.DependencyInjection;

namespace DistributedCron.Hosting;

/// <summary>
/// Runs <typeparamref name="TTask"/> resolved from a new DI scope for every run; the scope (and every scoped or
/// transient disposable it created) is disposed, asynchronously where supported, when the run ends.
/// </summary>
internal sealed class ScopedCronTask<TTask>(IServiceScopeFactory scopes) : ICronTask
    where TTask : class, ICronTask
{
    public async Task RunAsync(TaskContext context)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var task = scope.ServiceProvider.GetRequiredService<TTask>();
            await task.RunAsync(context).ConfigureAwait(false);
        }
    }
}

/// <summary>Runs a delegate with the service provider of a new DI scope per run (disposed when the run ends).</summary>
internal sealed class ScopedDelegateTask(IServiceScopeFactory scopes, Func<IServiceProvider, TaskContext, Task> handler) : ICronTask
{
    public async Task RunAsync(TaskContext context)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            await handler(scope.ServiceProvider, context).ConfigureAwait(false);
        }
    }
}

/// <summary>A static task declared on the <see cref="DcronBuilder"/>, added to the node when the node is created.</summary>
internal sealed class DcronTaskRegistration(string name, string cron, bool oneShot, TaskOptions? options, Func<IServiceProvider, ICronTask> create)
{
    public string Name { get; } = name;

    public void AddTo(Dcron dcron, IServiceProvider services)
    {
        var task = create(services);
        if (oneShot)
        {
            dcron.AddOneShotTask(Name, cron, task, options);
        }
        else
        {
            dcron.AddTask(Name, cron, task, options);
        }
    }
}

/// <summary>Runs dynamic tasks with a handler resolved from a new DI scope per run.</summary>
internal sealed class ScopedDynamicTaskHandler<THandler>(IServiceScopeFactory scopes)
    where THandler : class, IDynamicCronTaskHandler
{
    public async Task RunAsync(TaskMeta task, TaskContext context)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var handler = scope.ServiceProvider.GetRequiredService<THandler>();
            await handler.RunAsync(task, context).ConfigureAwait(false);
        }
    }
}

/// <summary>The dynamic task handler chosen with <see cref="DcronBuilder.UseDynamicTaskHandler{THandler}"/>.</summary>
internal sealed class DynamicTaskHandlerRegistration(Func<IServiceProvider, Func<TaskMeta, TaskContext, Task>> create)
{
    public Func<TaskMeta, TaskContext, Task> Create(IServiceProvider services) => create(services);
}

/// <summary>A code-only hook on the node's options, from <see cref="DcronBuilder.ConfigureNode"/>.</summary>
internal sealed class DcronNodeConfiguration(Action<IServiceProvider, DcronOptions> configure)
{
    public void Apply(IServiceProvider services, DcronOptions options) => configure(services, options);
}
