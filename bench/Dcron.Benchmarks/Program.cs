using BenchmarkDotNet.Running;

namespace DistributedCron.Benchmarks;

/// <summary>
/// Runs the benchmarks named on the command line, for example
/// <c>dotnet run -c Release --project bench/Dcron.Benchmarks -- --filter '*.Cron*'</c>.
/// The filter is matched against "Namespace.Class.Method" ignoring case, so <c>'*Cron*'</c> also selects every
/// class in this (DistributedCron) namespace. Each topic is one file with its own classes, all using
/// <see cref="ShortJobConfig"/>. <c>footprint [--tasks N] [--idle-seconds S]</c> is not a BenchmarkDotNet run:
/// see <see cref="Footprint"/>.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "footprint")
        {
            return await Footprint.RunAsync(args[1..]).ConfigureAwait(false);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
