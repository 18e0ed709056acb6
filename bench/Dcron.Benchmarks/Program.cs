using BenchmarkDotNet.Running;

namespace DistributedCron.Benchmarks;

/// <summary>
/// Runs the benchmarks named on the command line, for example
/// <c>dotnet run -c Release --project bench/Dcron.Benchmarks -- --filter '*.Cron*'</c>.
/// The filter is matched against "Namespace.Class.Method" ignoring case, so <c>'*Cron*'</c> also selects every
/// class in this (DistributedCron) namespace. Each topic is one file with its own classes, all using
/// <see cref="ShortJobConfig"/>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
