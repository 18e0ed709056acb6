using Xunit;
using System.Diagnostics;

namespace DistributedCron.Tests.Assignment;

public sealed class AssignerBehaviourTests
{
    public static TheoryData<AssignerStrategy> Strategies() => new(Enum.GetValues<AssignerStrategy>());

    private static Node[] Nodes(params string[] ids) => ids.Select(id => new Node { Id = id, Status = NodeStatus.Working }).ToArray();

    [Theory]
    [MemberData(nameof(Strategies))]
    public void No_nodes_means_no_owner(AssignerStrategy strategy)
    {
        var a = Assigners.Create(strategy).Build([], ["job-1", "job-2"]);
        Assert.Null(a.OwnerOf("job-1"));
        Assert.Null(a.OwnerOf("job-2"));
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void A_single_node_owns_every_task(AssignerStrategy strategy)
    {
        string[] tasks = ["a", "b", "job-1", "zzz"];
        var a = Assigners.Create(strategy).Build(Nodes("only"), tasks);
        Assert.All(tasks, t => Assert.Equal("only", a.OwnerOf(t)));
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void The_same_view_gives_the_same_owners_on_every_build(AssignerStrategy strategy)
    {
        var nodes = Nodes("n1", "n2", "n3", "n4", "n5");
        var tasks = Enumerable.Range(0, 500).Select(i => $"task-{i:D4}").Order(StringComparer.Ordinal).ToArray();
        var first = Assigners.Create(strategy).Build(nodes, tasks);
        var second = Assigners.Create(strategy).Build(nodes.Reverse().ToArray(), tasks.Reverse().ToArray()); // unsorted input is sorted
        Assert.All(tasks, t =>
        {
            Assert.NotNull(first.OwnerOf(t));
            Assert.Equal(first.OwnerOf(t), second.OwnerOf(t));
        });
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Owners_are_nodes_of_the_view(AssignerStrategy strategy)
    {
        var nodes = Nodes("n1", "n2", "n3");
        var tasks = Enumerable.Range(0, 300).Select(i => $"job-{i:D3}").ToArray();
        var a = Assigners.Create(strategy).Build(nodes, tasks);
        Assert.All(tasks, t => Assert.Contains(a.OwnerOf(t), nodes.Select(n => n.Id)));
    }

    [Theory]
    [InlineData(AssignerStrategy.Consistent, "consistent")]
    [InlineData(AssignerStrategy.HashSharding, "hash-sharding")]
    [InlineData(AssignerStrategy.HashSlot, "hash-slot")]
    [InlineData(AssignerStrategy.Range, "range")]
    [InlineData(AssignerStrategy.Weighted, "weighted")]
    [InlineData(AssignerStrategy.RoundRobin, "round-robin")]
    [InlineData(AssignerStrategy.Leader, "leader")]
    public void Names_are_the_Go_strategy_strings(AssignerStrategy strategy, string name) =>
        Assert.Equal(name, Assigners.Create(strategy).Name);

    [Fact]
    public void An_unknown_strategy_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Assigners.Create((AssignerStrategy)99));

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(0, 1, -5)]
    [InlineData(int.MinValue, 0, 1)]
    public void Weighted_treats_weights_below_one_as_one(int w1, int w2, int w3)
    {
        Node[] zero =
        [
            new() { Id = "a", Weight = w1 },
            new() { Id = "b", Weight = w2 },
            new() { Id = "c", Weight = w3 },
        ];
        Node[] ones = [new() { Id = "a" }, new() { Id = "b" }, new() { Id = "c" }];
        var tasks = Enumerable.Range(0, 200).Select(i => "job-" + i).ToArray();
        var actual = new WeightedAssigner().Build(zero, tasks);
        var expected = new WeightedAssigner().Build(ones, tasks);
        Assert.All(tasks, t => Assert.Equal(expected.OwnerOf(t), actual.OwnerOf(t)));
    }

    [Fact]
    public void Weighted_shares_follow_the_weights()
    {
        Node[] nodes = [new() { Id = "a", Weight = 1 }, new() { Id = "b", Weight = 3 }];
        var tasks = Enumerable.Range(0, 4000).Select(i => "job-" + i).ToArray();
        var a = new WeightedAssigner().Build(nodes, tasks);
        var onB = tasks.Count(t => a.OwnerOf(t) == "b");
        Assert.InRange(onB, 2700, 3300); // about 3/4
    }

    [Fact]
    public void Leader_puts_every_task_on_the_first_node_by_id()
    {
        var a = new LeaderAssigner().Build(Nodes("n2", "n10", "n3"), ["x", "y"]);
        Assert.Equal("n10", a.OwnerOf("x")); // ordinal: "n10" < "n2"
        Assert.Equal("n10", a.OwnerOf("y"));
        Assert.Equal("n10", a.OwnerOf("not-in-the-list"));
    }

    [Fact]
    public void Round_robin_deals_the_sorted_list_and_knows_no_other_task()
    {
        var a = new RoundRobinAssigner().Build(Nodes("n1", "n2"), ["c", "a", "b"]);
        Assert.Equal("n1", a.OwnerOf("a"));
        Assert.Equal("n2", a.OwnerOf("b"));
        Assert.Equal("n1", a.OwnerOf("c"));
        Assert.Null(a.OwnerOf("d"));
    }

    [Fact]
    public void Range_cuts_between_the_sorted_ids()
    {
        var a = new RangeAssigner().Build(Nodes("g", "p", "w"), []);
        Assert.Equal("g", a.OwnerOf("a"));
        Assert.Equal("g", a.OwnerOf("g"));
        Assert.Equal("p", a.OwnerOf("h"));
        Assert.Equal("p", a.OwnerOf("p"));
        Assert.Equal("w", a.OwnerOf("q"));
        Assert.Equal("w", a.OwnerOf("w"));
        Assert.Equal("w", a.OwnerOf("zzz")); // the last node takes everything past the id before it
    }

    [Fact]
    public void Consistent_moves_only_the_tasks_of_a_removed_node()
    {
        var tasks = Enumerable.Range(0, 2000).Select(i => "job-" + i).ToArray();
        var before = new ConsistentHashAssigner().Build(Nodes("n1", "n2", "n3", "n4"), tasks);
        var after = new ConsistentHashAssigner().Build(Nodes("n1", "n2", "n4"), tasks);
        Assert.All(tasks.Where(t => before.OwnerOf(t) != "n3"), t => Assert.Equal(before.OwnerOf(t), after.OwnerOf(t)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16384)]
    [InlineData(20000)] // more nodes than slots: the first 16,384 nodes take one slot each
    public void Hash_slot_blocks_are_contiguous_and_cover_every_slot(int nodeCount)
    {
        var nodes = Enumerable.Range(0, nodeCount).Select(i => new Node { Id = $"n{i:D6}" }).ToArray();
        var a = new HashSlotAssigner(16).Build(nodes, []);
        var owners = new List<string?>();
        foreach (var task in Enumerable.Range(0, 400).Select(i => "t" + i))
        {
            owners.Add(a.OwnerOf(task));
        }

        Assert.All(owners, Assert.NotNull);
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Every_one_of_100k_tasks_over_10_nodes_gets_an_owner_from_the_view(AssignerStrategy strategy)
    {
        // Speed is measured in bench/Dcron.Benchmarks (AssignmentBenchmarks), not asserted here.
        var nodes = Enumerable.Range(0, 10).Select(i => new Node { Id = $"node-{i:D2}", Weight = i + 1 }).ToArray();
        var tasks = Enumerable.Range(0, 100_000).Select(i => $"task-{i:D6}").ToArray();
        var ids = nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        var a = Assigners.Create(strategy).Build(nodes, tasks);
        foreach (var t in tasks)
        {
            Assert.Contains(a.OwnerOf(t)!, ids);
        }
    }
}
