using Xunit;
namespace DistributedCron.Tests.Assignment;

/// <summary>The vectors of dcron-reference.md §6.8, produced by running the Go library's assigners.</summary>
public sealed class AssignerVectorTests
{
    private static readonly Node[] Set1 =
    [
        new() { Id = "node-a", Weight = 1, Status = NodeStatus.Working },
        new() { Id = "node-b", Weight = 1, Status = NodeStatus.Working },
        new() { Id = "node-c", Weight = 2, Status = NodeStatus.Working },
    ];

    private static readonly string[] Set1Tasks = ["billing", "emails", "job-1", "job-2", "job-3", "job-4", "job-5"];

    [Theory]
    //          task       sharding consistent slot range weighted
    [InlineData("job-1", "c", "a", "c", "a", "c")]
    [InlineData("job-2", "a", "c", "c", "a", "b")]
    [InlineData("job-3", "a", "b", "b", "a", "c")]
    [InlineData("job-4", "c", "b", "a", "a", "a")]
    [InlineData("job-5", "a", "a", "c", "a", "c")]
    [InlineData("billing", "a", "c", "a", "a", "c")]
    [InlineData("emails", "a", "a", "b", "a", "c")]
    public void Set1_owners_match_the_Go_library(string task, string sharding, string consistent, string slot, string range, string weighted)
    {
        Assert.Equal("node-" + sharding, Owner(AssignerStrategy.HashSharding, Set1, task));
        Assert.Equal("node-" + consistent, Owner(AssignerStrategy.Consistent, Set1, task));
        Assert.Equal("node-" + slot, Owner(AssignerStrategy.HashSlot, Set1, task));
        Assert.Equal("node-" + range, Owner(AssignerStrategy.Range, Set1, task));
        Assert.Equal("node-" + weighted, Owner(AssignerStrategy.Weighted, Set1, task));
    }

    [Theory]
    [InlineData("job-1", "a")]
    [InlineData("job-2", "a")]
    [InlineData("job-3", "b")]
    [InlineData("job-4", "b")]
    [InlineData("job-5", "a")]
    [InlineData("billing", "b")]
    [InlineData("emails", "a")]
    public void Consistent_with_two_nodes_matches_the_Go_library(string task, string owner) =>
        Assert.Equal("node-" + owner, Owner(AssignerStrategy.Consistent, Set1[..2], task));

    [Theory]
    [InlineData("0-early", "0001")]
    [InlineData("async-task-2", "0001")]
    [InlineData("task-a", "0001")]
    [InlineData("10.0.0.2-zzz", "0002")]
    [InlineData("cleanup", "0002")]
    [InlineData("task-b", "0002")]
    [InlineData("async-task-1", "0003")]
    [InlineData("report", "0003")]
    [InlineData("task-c", "0003")]
    public void Set2_round_robin_matches_the_Go_library(string task, string nodeSuffix)
    {
        Node[] nodes =
        [
            new() { Id = "10.0.0.1-1700000000000000000-0001", Weight = 1 },
            new() { Id = "10.0.0.2-1700000000000000000-0002", Weight = 2 },
            new() { Id = "10.0.0.3-1700000000000000000-0003", Weight = 3 },
        ];
        string[] tasks = ["0-early", "10.0.0.2-zzz", "async-task-1", "async-task-2", "cleanup", "report", "task-a", "task-b", "task-c"];
        var owner = Assigners.Create(AssignerStrategy.RoundRobin).Build(nodes, tasks).OwnerOf(task);
        Assert.EndsWith("-" + nodeSuffix, owner);
    }

    [Fact]
    public void Hash_slot_blocks_for_three_nodes_are_0_5461_5462_10922_10923_16383()
    {
        // crc32(task) % 16384 puts a task in one slot; check the block edges through tasks found by search.
        var a = new HashSlotAssigner().Build(Set1, Set1Tasks);
        foreach (var task in Enumerable.Range(0, 2000).Select(i => "t" + i))
        {
            var slot = Crc32.Compute(task) % 16384;
            var expected = slot <= 5461 ? "node-a" : slot <= 10922 ? "node-b" : "node-c";
            Assert.Equal(expected, a.OwnerOf(task));
        }
    }

    private static string? Owner(AssignerStrategy strategy, IReadOnlyList<Node> nodes, string task) =>
        Assigners.Create(strategy).Build(nodes, Set1Tasks).OwnerOf(task);
}
