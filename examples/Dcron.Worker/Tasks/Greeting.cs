using DistributedCron.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DistributedCron.Worker;

/// <summary>Runs dynamic tasks (stored in the registry); resolved from a new DI scope per run.</summary>
public sealed class GreetingHandler(ILogger<GreetingHandler> logger) : IDynamicCronTaskHandler
{
    /// <inheritdoc />
    public Task RunAsync(TaskMeta task, TaskContext context)
    {
        logger.LogInformation("dynamic task {Task} at {ScheduledAt:HH:mm:ss} on {NodeId}: {Payload}", task.Name, context.ScheduledAt, context.NodeId, task.Payload);
        return Task.CompletedTask;
    }
}

/// <summary>Adds a dynamic task through the node resolved from DI, once the node is working.</summary>
public sealed class GreetingSeeder(Dcron dcron, ILogger<GreetingSeeder> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var greeting = new TaskMeta { Name = "greeting", CronFormat = "@every 15s", Payload = "hello from the registry" };
        try
        {
            await dcron.AddTaskMetaAsync(greeting, stoppingToken);
            logger.LogInformation("added dynamic task {Task} ({Cron})", greeting.Name, greeting.CronFormat);
        }
        catch (TaskExistsException)
        {
            // Another worker of the cluster (or an earlier run against a persistent registry) added it: nothing to do.
            logger.LogInformation("dynamic task {Task} already exists in the registry", greeting.Name);
        }
    }
}
