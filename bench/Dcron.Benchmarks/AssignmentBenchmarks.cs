using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace DistributedCron.Benchmarks;

/// <summary>
/// Assignment of 100,000 tasks over 10 working nodes (DESIGN §4, §9): building one view's assignment, and building it
/// plus looking up the owner of every task (what each node does on a membership change).
/// </summary>
[Config(typeof(ShortJobConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class AssignmentBenchmarks
{
    private Node[] _nodes = [];
    private string[] _tasks = [];
    private IAssigner _assigner = new LeaderAssigner();

    [Params(AssignerStrategy.Consistent, AssignerStrategy.HashSharding, AssignerStrategy.Leader)]
    public AssignerStrategy Strategy { get; set; }

    [Params(100_000)]
    public int Tasks { get; set; }

    [Params(10)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _nodes = Enumerable.Range(0, Nodes)
            .Select(i => new Node { Id = "node-" + i.ToString("D2", CultureInfo.InvariantCulture), Status = NodeStatus.Working })
            .ToArray();
        _tasks = Enumerable.Range(0, Tasks).Select(i => "task-" + i.ToString("D6", CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToArray();
        _assigner = Assigners.Create(Strategy);
    }

    [Benchmark]
    public IAssignment Build() => _assigner.Build(_nodes, _tasks);

    [Benchmark]
    public int BuildAndOwnerOfEveryTask()
    {
        var a = _assigner.Build(_nodes, _tasks);
        var mine = 0;
        foreach (var t in _tasks)
        {
            if (a.OwnerOf(t) == "node-00")
            {
                mine++;
            }
        }

        return mine;
    }
}
