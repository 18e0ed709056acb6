using Microsoft.Extensions.Logging;
namespace DistributedCron.Worker;

/// <summary>
/// A scoped unit of work, like a DbContext: one per run, disposed when the run ends. The log shows a new id per run.
/// </summary>
public sealed class ReportContext(ILogger<ReportContext> logger) : IAsyncDisposable
{
    private static int s_next;

    /// <summary>This instance's number.</summary>
    public int Id { get; } = Interlocked.Increment(ref s_next);

    /// <summary>Rows "written" by this unit of work.</summary>
    public int Rows { get; private set; }

    /// <summary>Pretends to write a row.</summary>
    public void Write() => Rows++;

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        logger.LogInformation("report context #{Id} disposed after {Rows} row(s)", Id, Rows);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A static task resolved from a new DI scope for every run, with a scoped dependency.</summary>
public sealed class ReportTask(ReportContext db, ILogger<ReportTask> logger) : ICronTask
{
    /// <inheritdoc />
    public async Task RunAsync(TaskContext context)
    {
        logger.LogInformation(
            "report for {ScheduledAt:HH:mm:ss} on {NodeId}: token {Token}, attempt {Attempt}{CatchUp}, context #{Context}",
            context.ScheduledAt, context.NodeId, context.FencingToken, context.Attempt, context.IsCatchUp ? " (catch-up)" : "", db.Id);
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), context.CancellationToken);
            db.Write();
        }
    }
}
