using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>
/// conformance.md case 9 (real servers only; subclass it when <see cref="RegistryTestTarget.StartDedicatedServerAsync"/>
/// returns a server): watches span a server restart and the data persists.
/// </summary>
public abstract class ServerRestartConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    [Fact]
    public async Task Case09_A_watch_spanning_a_server_restart_resumes_and_delivers_later_changes()
    {
        var server = Own(await Target.StartDedicatedServerAsync(Ct)
            ?? throw new InvalidOperationException($"{Target.GetType().Name} has no restartable server; do not subclass {nameof(ServerRestartConformanceTests)}."));
        var ns = NewNamespace();
        var writer = Own(await server.CreateRegistryAsync(ns, Ct));
        await writer.RegisterNodeAsync(NewNode("before"), TimeSpan.FromMinutes(5), Ct);
        await writer.PutTaskAsync(NewTask("before"), Ct);
        await writer.MarkTaskDeletedAsync("tomb-before", Ct);
        var claim = await writer.CanRunTaskAsync("claimed", T0, "before", Ct);
        Assert.True(claim.Granted);

        var nodes = await WatchNodesAsync(Own(await server.CreateRegistryAsync(ns, Ct)));
        var tasks = await WatchTasksAsync(Own(await server.CreateRegistryAsync(ns, Ct)));

        await server.StopAsync(Ct);
        await server.StartAsync(Ct);

        // The old client reconnects by itself; its first calls may fail while it does.
        var retry = TimeSpan.FromSeconds(30);
        await Wait.UntilAsync(() => Succeeds(() => writer.PutTaskAsync(NewTask("after", payload: "x"), Ct)), retry, "the old client writes again", TimeSpan.FromMilliseconds(200));
        await Wait.UntilAsync(() => Succeeds(() => writer.RegisterNodeAsync(NewNode("after"), TimeSpan.FromMinutes(5), Ct)), retry, "the old client registers again", TimeSpan.FromMilliseconds(200));
        await Wait.UntilAsync(() => Succeeds(() => writer.MarkTaskDeletedAsync("before", Ct)), retry, "the old client tombstones", TimeSpan.FromMilliseconds(200));

        await tasks.WaitUntilAsync(v => v.GetValueOrDefault("after")?.Meta?.Payload == "x" && v.GetValueOrDefault("before")?.Tombstoned == true,
            Target.EventTimeout + retry, "the task watch delivers changes after the restart");
        await nodes.WaitUntilAsync(v => v.ContainsKey("after"), Target.EventTimeout + retry, "the node watch delivers changes after the restart");

        // What was written before the restart is still there, including the fire state: the occurrence stays claimed.
        var fresh = Own(await server.CreateRegistryAsync(ns, Ct));
        Assert.Contains("before", (await fresh.GetTasksAsync(Ct)).Keys);
        Assert.Contains("tomb-before", await fresh.GetDeletedTaskNamesAsync(Ct));
        Assert.False((await fresh.CanRunTaskAsync("claimed", T0, "after", Ct)).Granted);
        Assert.Equal(claim.FencingToken, (await fresh.GetFireStateAsync("claimed", Ct))!.FencingToken);
    }

    private static async Task<bool> Succeeds(Func<Task> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (RegistryException)
        {
            return false; // expected while the client reconnects; the deadline bounds the retries
        }
    }
}
