namespace DistributedCron.Hosting;

/// <summary>
/// Runs dynamic tasks (those stored in the registry with <see cref="Dcron.AddTaskMetaAsync"/>) on the node that owns
/// them. Chosen with <see cref="DcronBuilder.UseDynamicTaskHandler{THandler}"/>; resolved from a new DI scope for every
/// run, so it may depend on scoped services.
/// </summary>
public interface IDynamicCronTaskHandler
{
    /// <summary>Runs one occurrence of <paramref name="task"/>; honour <see cref="TaskContext.CancellationToken"/>.</summary>
    /// <param name="task">The task's metadata (its <see cref="TaskMeta.Payload"/> says what to do).</param>
    /// <param name="context">The occurrence.</param>
    Task RunAsync(TaskMeta task, TaskContext context);
}
