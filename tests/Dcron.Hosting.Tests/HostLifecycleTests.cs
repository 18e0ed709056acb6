using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace DistributedCron.Hosting.Tests;

/// <summary>The node starts with the host (registered, working) and stops with it (leaving, drained, unregistered).</summary>
public sealed class HostLifecycleTests
{
    [Fact]
    public async Task TheHostStartsTheNodeWorkingAndStopsItUnregistered()
    {
        await using var t = TestHost.Create(_ => { });
        Assert.Empty(await t.Observer.GetNodesAsync());

        await t.Host.StartAsync();
        var dcron = t.Dcron;
        Assert.True(dcron.IsRunning);
        var node = Assert.Single(await t.Observer.GetNodesAsync());
        Assert.Equal(dcron.NodeId, node.Id);
        Assert.Equal(NodeStatus.Working, node.Status);

        await t.Host.StopAsync();
        Assert.False(dcron.IsRunning);
        Assert.Empty(await t.Observer.GetNodesAsync());
    }

    [Fact]
    public async Task TheNodeIsOneSingletonResolvableForDynamicTasks()
    {
        var seen = new List<(string Name, string? Payload, int Scope)>();
        await using var t = TestHost.Create(
            b => b.UseDynamicTaskHandler<RecordingDynamicHandler>(),
            services: s => s.AddSingleton(seen).AddScoped<ScopeId>());
        await t.Host.StartAsync();
        Assert.Same(t.Dcron, t.Services.GetRequiredService<Dcron>());

        await t.Dcron.AddTaskMetaAsync(new TaskMeta { Name = "dyn", CronFormat = "* * * * * *", Payload = "hello" });
        await t.AdvanceUntilAsync(() => { lock (seen) { return seen.Count >= 2; } }, "two runs of the dynamic task");
        await t.Host.StopAsync();

        lock (seen)
        {
            Assert.All(seen, s => Assert.Equal(("dyn", "hello"), (s.Name, s.Payload)));
            Assert.Equal(seen.Count, seen.Select(s => s.Scope).Distinct().Count());
        }
    }

    [Fact]
    public async Task StopWaitsForARunningTaskThenUnregisters()
    {
        var gate = new BlockingTaskGate();
        await using var t = TestHost.Create(
            b => b.AddCronTask<BlockingTask>("long", "* * * * * *"),
            services: s => s.AddSingleton(gate));
        await t.Host.StartAsync();
        await t.AdvanceUntilAsync(() => gate.Started.Task.IsCompleted, "the task to start");

        var stopping = t.Host.StopAsync();
        await Wait.UntilAsync(async () => (await t.Observer.GetNodesAsync()).SingleOrDefault()?.Status == NodeStatus.Leaving, "the node to be leaving");
        Assert.False(stopping.IsCompleted, "the host's stop waits for the running task");

        gate.Release.SetResult();
        await stopping.WaitAsync(Wait.Deadline);
        Assert.Empty(await t.Observer.GetNodesAsync());
        Assert.False(gate.Cancelled, "a task that finishes within the shutdown timeout is not cancelled");
        var state = await t.Observer.GetFireStateAsync("long");
        Assert.Equal(FireStatus.Succeeded, state!.LastOutcome!.Status);
    }

    [Fact]
    public async Task TheHostsShutdownTimeoutCancelsTasksStillRunningAndTheNodeStillUnregisters()
    {
        var gate = new BlockingTaskGate { HonourCancellation = true };
        await using var t = TestHost.Create(
            b => b.AddCronTask<BlockingTask>("stubborn", "* * * * * *"),
            services: s => s.AddSingleton(gate).Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200)));
        await t.Host.StartAsync();
        await t.AdvanceUntilAsync(() => gate.Started.Task.IsCompleted, "the task to start");

        // The node's own ShutdownTimeout (30 s of the fake clock) never runs out here: only the host's can end the drain.
        await t.Host.StopAsync().WaitAsync(Wait.Deadline);
        Assert.True(gate.Cancelled, "the task saw its cancellation token fire");
        Assert.Empty(await t.Observer.GetNodesAsync());
    }

    [Fact]
    public async Task AFailingRegistryFailsTheHostsStartAndLeavesNothingRegistered()
    {
        SwitchableRegistry? registry = null;
        var t = TestHost.Create(b => b.UseRegistry("Switchable", sp =>
        {
            registry = new SwitchableRegistry(new InMemoryRegistry(sp.GetRequiredService<InMemoryStore>())) { Failing = true };
            return registry;
        }), services: s => s.AddSingleton(sp => new InMemoryStore(sp.GetRequiredService<TimeProvider>())));

        await Assert.ThrowsAsync<RegistryUnavailableException>(() => t.Host.StartAsync());
        Assert.False(t.Dcron.IsRunning);
        await t.Host.StopAsync();
        await t.DisposeAsync();
        Assert.True(registry!.Disposed, "the container disposes the registry it created");
    }

    [Fact]
    public async Task TimeProviderSystemIsRegisteredOnlyWhenNoneIs()
    {
        var bare = new ServiceCollection();
        bare.AddDcron(b => b.UseInMemory());
        await using (var sp = bare.BuildServiceProvider())
        {
            Assert.Same(TimeProvider.System, sp.GetRequiredService<TimeProvider>());
        }

        var fake = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var withClock = new ServiceCollection().AddSingleton<TimeProvider>(fake);
        withClock.AddDcron(b => b.UseInMemory());
        await using (var sp = withClock.BuildServiceProvider())
        {
            Assert.Same(fake, sp.GetRequiredService<TimeProvider>());
        }
    }

    [Fact]
    public void AddingDcronTwiceConfiguresOneNodeAndAnotherSectionIsRefused()
    {
        var services = new ServiceCollection();
        services.AddDcron(b => b.UseInMemory().AddCronTask<BlockingTask>("a", "* * * * *"));
        services.AddDcron(b => b.AddCronTask<BlockingTask>("b", "* * * * *"));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(Dcron));
        Assert.Throws<ArgumentException>(() => services.AddDcron(b => b.AddCronTask<BlockingTask>("a", "* * * * *")));
        var ex = Assert.Throws<InvalidOperationException>(() => services.AddDcron("Other", null));
        Assert.Contains("'Dcron'", ex.Message, StringComparison.Ordinal);
    }

    private sealed class ScopeId
    {
        private static int s_next;

        public int Value { get; } = Interlocked.Increment(ref s_next);
    }

    private sealed class RecordingDynamicHandler(List<(string, string?, int)> seen, ScopeId scope) : IDynamicCronTaskHandler
    {
        public Task RunAsync(TaskMeta task, TaskContext context)
        {
            lock (seen)
            {
                seen.Add((task.Name, context.Payload, scope.Value));
            }

            return Task.CompletedTask;
        }
    }

    private sealed class BlockingTaskGate
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool HonourCancellation { get; init; }

        public volatile bool Cancelled;
    }

    private sealed class BlockingTask(BlockingTaskGate gate) : ICronTask
    {
        public async Task RunAsync(TaskContext context)
        {
            if (!gate.Started.TrySetResult())
            {
                return; // only the first run blocks
            }

            try
            {
                await (gate.HonourCancellation ? gate.Release.Task.WaitAsync(context.CancellationToken) : gate.Release.Task);
            }
            finally
            {
                gate.Cancelled = context.CancellationToken.IsCancellationRequested;
            }
        }
    }
}
