using System.Text;
using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>conformance.md cases 11–17: task metadata, tombstones, the task watch and force cleanup.</summary>
public abstract class TaskConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    /// <summary>Exactly <see cref="DcronLimits.MaxPayloadBytes"/> UTF-8 bytes of mixed 1-, 2-, 3- and 4-byte text with JSON-sensitive characters.</summary>
    protected static string MaxPayload()
    {
        string[] pieces = ["é", "日本", "😀", "\"", "\\", "\n", "\t", "\u0001", "<&>'", " zł ", "{\"k\":[1]}", "\u2028", "\0"];
        var sb = new StringBuilder();
        var bytes = 0;
        for (var i = 0; ; i++)
        {
            var p = pieces[i % pieces.Length];
            var n = Encoding.UTF8.GetByteCount(p);
            if (bytes + n > DcronLimits.MaxPayloadBytes)
            {
                break;
            }

            sb.Append(p);
            bytes += n;
        }

        sb.Append('x', DcronLimits.MaxPayloadBytes - bytes);
        var s = sb.ToString();
        Assert.Equal(DcronLimits.MaxPayloadBytes, Encoding.UTF8.GetByteCount(s));
        return s;
    }

    [Fact]
    public async Task Case11_AddTask_then_Exists_then_PutTask_overwrites_and_every_field_round_trips()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var v1 = NewTask("job-1", "0 */2 * * *", "v1");
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(v1, Ct));
        Assert.Equal(AddTaskResult.Exists, await r.AddTaskAsync(v1 with { Payload = "v2" }, Ct));
        Assert.Equal(v1, (await r.GetTasksAsync(Ct))["job-1"]); // Exists wrote nothing

        var v2 = v1 with { CronFormat = "@every 1h30m", Payload = "v2" };
        await r.PutTaskAsync(v2, Ct);
        Assert.Equal(v2, (await r.GetTasksAsync(Ct))["job-1"]);

        var full = new TaskMeta
        {
            Name = "Full.Task_2:x@y-z",
            CronFormat = "CRON_TZ=Europe/Warsaw 0 30 9 ? * MON-FRI",
            OneShot = true,
            ExecutedAndMarkDeleted = true,
            ExecutedAndCleanup = true,
            Payload = MaxPayload(),
        };
        var bare = new TaskMeta { Name = "bare", CronFormat = "@daily" };
        var empty = new TaskMeta { Name = "empty-payload", CronFormat = "* * * * *", Payload = "" };
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(full, Ct));
        await r.PutTaskAsync(bare, Ct);
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(empty, Ct));

        var got = await (await NewRegistryAsync(ns)).GetTasksAsync(Ct);
        Assert.Equal(4, got.Count);
        Assert.Equal(v2, got["job-1"]);
        Assert.Equal(full, got[full.Name]);
        Assert.Equal(bare, got["bare"]);
        Assert.Equal(empty, got["empty-payload"]);
    }

    [Fact]
    public async Task Case11_A_payload_over_the_limit_is_refused_and_nothing_is_written()
    {
        var r = await NewRegistryAsync(NewNamespace());
        var big = NewTask("big", payload: MaxPayload() + "é");
        var ex = await Assert.ThrowsAsync<PayloadTooLargeException>(() => r.AddTaskAsync(big, Ct));
        Assert.Equal("big", ex.TaskName);
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => r.PutTaskAsync(big, Ct));
        Assert.Empty(await r.GetTasksAsync(Ct));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("-leading-dash")]
    [InlineData("white space")]
    [InlineData("ünïcode")]
    public async Task Illegal_task_names_are_refused_with_an_ArgumentException_naming_the_value(string name)
    {
        var r = await NewRegistryAsync(NewNamespace());
        var calls = new (string What, Func<Task> Call)[]
        {
            ("AddTask", () => r.AddTaskAsync(NewTask(name), Ct)),
            ("PutTask", () => r.PutTaskAsync(NewTask(name), Ct)),
            ("MarkTaskDeleted", () => r.MarkTaskDeletedAsync(name, Ct)),
            ("RemoveTaskDeleted", () => r.RemoveTaskDeletedAsync(name, Ct)),
            ("ForceCleanupTask", () => r.ForceCleanupTaskAsync(name, Ct)),
            ("CanRunTask", () => r.CanRunTaskAsync(name, T0, "n1", Ct)),
            ("GetFireState", () => r.GetFireStateAsync(name, Ct)),
        };
        foreach (var (what, call) in calls)
        {
            var ex = await Record.ExceptionAsync(call);
            var arg = Assert.IsAssignableFrom<ArgumentException>(ex);
            Assert.True(arg.Message.Contains($"'{name}'", StringComparison.Ordinal), $"{what}: the message names the value: {arg.Message}");
        }

        Assert.Empty(await r.GetTasksAsync(Ct));
        Assert.Empty(await r.GetDeletedTaskNamesAsync(Ct));
        Assert.Empty(await r.GetFireStatesAsync(Ct));
    }

    [Fact]
    public async Task Case12_AddTask_of_a_tombstoned_name_returns_Deleted_and_writes_nothing()
    {
        var r = await NewRegistryAsync(NewNamespace());
        await r.MarkTaskDeletedAsync("gone", Ct);
        Assert.Equal(AddTaskResult.Deleted, await r.AddTaskAsync(NewTask("gone"), Ct));
        Assert.Empty(await r.GetTasksAsync(Ct));
        Assert.Equal(["gone"], await r.GetDeletedTaskNamesAsync(Ct));

        // A name with metadata and a tombstone is Deleted too: the tombstone wins until the name is restored.
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(NewTask("both", payload: "old"), Ct));
        await r.MarkTaskDeletedAsync("both", Ct);
        Assert.Equal(AddTaskResult.Deleted, await r.AddTaskAsync(NewTask("both", payload: "new"), Ct));
        Assert.Equal("old", (await r.GetTasksAsync(Ct))["both"].Payload);

        await r.RemoveTaskDeletedAsync("gone", Ct);
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(NewTask("gone"), Ct));
    }

    [Fact]
    public async Task Case13_RemoveTaskDeleted_removes_that_tombstone_and_no_other()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        await r.PutTaskAsync(NewTask("b", payload: "kept"), Ct);
        foreach (var name in new[] { "a", "b", "c", "b" }) // marking twice is harmless
        {
            await r.MarkTaskDeletedAsync(name, Ct);
        }

        var other = await NewRegistryAsync(ns);
        Assert.Equal(["a", "b", "c"], (await other.GetDeletedTaskNamesAsync(Ct)).Order(StringComparer.Ordinal));
        Assert.Equal("kept", (await r.GetTasksAsync(Ct))["b"].Payload); // a tombstone does not erase metadata

        await r.RemoveTaskDeletedAsync("b", Ct);
        Assert.Equal(["a", "c"], (await other.GetDeletedTaskNamesAsync(Ct)).Order(StringComparer.Ordinal));
        Assert.Equal("kept", (await r.GetTasksAsync(Ct))["b"].Payload);

        await r.RemoveTaskDeletedAsync("b", Ct);
        await r.RemoveTaskDeletedAsync("never-deleted", Ct);
        Assert.Equal(["a", "c"], (await other.GetDeletedTaskNamesAsync(Ct)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Case14_WatchTasks_delivers_each_kind_of_change()
    {
        var ns = NewNamespace();
        var writer = await NewRegistryAsync(ns);
        await writer.PutTaskAsync(NewTask("before"), Ct);
        await writer.MarkTaskDeletedAsync("tomb-before", Ct);
        var watch = await WatchTasksAsync(await NewRegistryAsync(ns));
        var first = watch.Events[0];
        Assert.Equal(["before"], first.Tasks.Keys);
        Assert.Equal(["tomb-before"], first.DeletedNames);

        var t = Target.EventTimeout;
        var v1 = NewTask("k", payload: "1");
        var v2 = v1 with { Payload = "2", CronFormat = "@hourly" };
        Assert.Equal(AddTaskResult.Added, await writer.AddTaskAsync(v1, Ct));
        await watch.WaitUntilAsync(v => v.GetValueOrDefault("k") == new TaskView(v1, false), t, "put");
        await writer.PutTaskAsync(v2, Ct);
        await watch.WaitUntilAsync(v => v.GetValueOrDefault("k") == new TaskView(v2, false), t, "update");
        await writer.MarkTaskDeletedAsync("k", Ct);
        await watch.WaitUntilAsync(v => v.GetValueOrDefault("k") == new TaskView(v2, true), t, "tombstone");
        await writer.RemoveTaskDeletedAsync("k", Ct);
        await watch.WaitUntilAsync(v => v.GetValueOrDefault("k") == new TaskView(v2, false), t, "restore");
        await writer.ForceCleanupTaskAsync("k", Ct);
        await watch.WaitUntilAsync(v => !v.ContainsKey("k"), t, "removal");

        Assert.Equal(
            new TaskView?[] { new(v1, false), new(v2, false), new(v2, true), new(v2, false), null },
            watch.HistoryOf("k"));
        Assert.Equal(new TaskView(NewTask("before"), false), watch.View["before"]);
        Assert.Equal(new TaskView(null, true), watch.View["tomb-before"]);
    }

    [Fact]
    public async Task Case14_WatchTasks_keeps_the_order_of_changes_for_each_task()
    {
        var ns = NewNamespace();
        var watch = await WatchTasksAsync(await NewRegistryAsync(ns));
        var writers = new[] { await NewRegistryAsync(ns), await NewRegistryAsync(ns) };
        var names = Enumerable.Range(0, 8).Select(i => $"ordered-{i}").ToArray();
        var expected = new Dictionary<string, TaskView?[]>();

        // Each task's changes follow one another without waiting for the watch; tasks change concurrently.
        await Task.WhenAll(names.Select(async (name, i) =>
        {
            var w = writers[i % writers.Length];
            var v1 = NewTask(name, payload: "v1");
            var v2 = v1 with { Payload = "v2" };
            var v3 = v1 with { Payload = "v3", CronFormat = "@weekly" };
            Assert.Equal(AddTaskResult.Added, await w.AddTaskAsync(v1, Ct));
            await w.PutTaskAsync(v2, Ct);
            await w.MarkTaskDeletedAsync(name, Ct);
            await w.RemoveTaskDeletedAsync(name, Ct);
            await w.ForceCleanupTaskAsync(name, Ct);
            await w.PutTaskAsync(v3, Ct);
            await w.MarkTaskDeletedAsync(name, Ct);
            lock (expected)
            {
                expected[name] = [null, new(v1, false), new(v2, false), new(v2, true), new(v2, false), null, new(v3, false), new(v3, true)];
            }
        }));

        await watch.WaitUntilAsync(v => names.All(n => v.GetValueOrDefault(n) == expected[n][^1]), Target.EventTimeout, "every task's final state");
        foreach (var name in names)
        {
            AssertOrderedSubsequence(expected[name], watch.HistoryOf(name), name);
        }

        var stored = await writers[0].GetTasksAsync(Ct);
        Assert.All(names, n => Assert.Equal(expected[n][^1]!.Meta, stored[n]));
    }

    [Fact]
    public async Task Case15_GetTasks_returns_all_of_500_tasks_and_all_tombstones()
    {
        var ns = NewNamespace();
        var r = await NewRegistryAsync(ns);
        var tasks = Enumerable.Range(0, 500).Select(i => NewTask($"bulk-{i:D3}", payload: new string('p', i))).ToArray();
        await ForEachLimitedAsync(tasks, 16, async t => Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(t, Ct)));
        await ForEachLimitedAsync(tasks.Take(150), 16, t => r.MarkTaskDeletedAsync(t.Name, Ct));

        var reader = await NewRegistryAsync(ns);
        var got = await reader.GetTasksAsync(Ct);
        Assert.Equal(500, got.Count);
        Assert.All(tasks, t => Assert.Equal(t, got[t.Name]));
        Assert.Equal(tasks.Take(150).Select(t => t.Name).ToHashSet(), (await reader.GetDeletedTaskNamesAsync(Ct)).ToHashSet());
    }

    [Fact]
    public async Task Case16_ForceCleanupTask_erases_metadata_tombstone_and_fire_state_of_that_task_only()
    {
        var r = await NewRegistryAsync(NewNamespace());
        foreach (var name in new[] { "victim", "bystander" })
        {
            await r.PutTaskAsync(NewTask(name), Ct);
            await r.MarkTaskDeletedAsync(name, Ct);
            Assert.True((await r.CanRunTaskAsync(name, T0, "n1", Ct)).Granted);
        }

        await r.ForceCleanupTaskAsync("victim", Ct);
        Assert.Equal(["bystander"], (await r.GetTasksAsync(Ct)).Keys);
        Assert.Equal(["bystander"], await r.GetDeletedTaskNamesAsync(Ct));
        Assert.Null(await r.GetFireStateAsync("victim", Ct));
        Assert.Equal(["bystander"], (await r.GetFireStatesAsync(Ct)).Keys);
        Assert.NotNull(await r.GetFireStateAsync("bystander", Ct));

        // The name is free again, and its claims start afresh (an earlier occurrence is claimable).
        Assert.Equal(AddTaskResult.Added, await r.AddTaskAsync(NewTask("victim"), Ct));
        Assert.True((await r.CanRunTaskAsync("victim", T0.AddMinutes(-1), "n1", Ct)).Granted);
        await r.ForceCleanupTaskAsync("never-existed", Ct);
    }

    [Fact]
    public async Task Case17_ForceCleanupAllTasks_erases_its_namespace_and_nothing_of_another()
    {
        var (ns1, ns2) = (NewNamespace(), NewNamespace());
        var r1 = await NewRegistryAsync(ns1);
        var r2 = await NewRegistryAsync(ns2);
        foreach (var r in new[] { r1, r2 })
        {
            await r.RegisterNodeAsync(NewNode("node"), Target.NodeTtl * 100, Ct);
            for (var i = 0; i < 5; i++)
            {
                await r.PutTaskAsync(NewTask($"t{i}"), Ct);
                Assert.True((await r.CanRunTaskAsync($"t{i}", T0, "node", Ct)).Granted);
            }

            await r.MarkTaskDeletedAsync("t1", Ct);
            await r.MarkTaskDeletedAsync("only-tombstone", Ct);
            Assert.True((await r.CanRunTaskAsync("only-fire-state", T0, "node", Ct)).Granted);
        }

        var watch = await WatchTasksAsync(await NewRegistryAsync(ns1));
        await r1.ForceCleanupAllTasksAsync(Ct);

        Assert.Empty(await r1.GetTasksAsync(Ct));
        Assert.Empty(await r1.GetDeletedTaskNamesAsync(Ct));
        Assert.Empty(await r1.GetFireStatesAsync(Ct));
        Assert.Equal(["node"], (await r1.GetNodesAsync(Ct)).Select(n => n.Id)); // nodes are kept
        await watch.WaitUntilAsync(v => v.Count == 0, Target.EventTimeout, "the watch sees every task and tombstone go");

        Assert.Equal(5, (await r2.GetTasksAsync(Ct)).Count);
        Assert.Equal(2, (await r2.GetDeletedTaskNamesAsync(Ct)).Count);
        Assert.Equal(6, (await r2.GetFireStatesAsync(Ct)).Count);
        Assert.Equal(["node"], (await r2.GetNodesAsync(Ct)).Select(n => n.Id));
    }
}
