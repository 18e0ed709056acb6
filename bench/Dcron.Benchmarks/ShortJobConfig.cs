using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace DistributedCron.Benchmarks;

/// <summary>
/// The job for these 2-core shared machines (DESIGN §9): 4 warmups and 12 iterations of 250 ms, one launch, with
/// allocations measured. The default job takes about a minute per benchmark here. It runs in process, so the run
/// does not rebuild the solution next to other people's builds; start it with <c>-c Release</c>.
/// Compare only numbers measured in the same run.
/// </summary>
public sealed class ShortJobConfig : ManualConfig
{
    public ShortJobConfig()
    {
        AddJob(Job.Default
            .WithWarmupCount(4)
            .WithIterationCount(12)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithLaunchCount(1)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
    }
}
