using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;

/// <summary>A three-server ZooKeeper ensemble on loopback ports, started together (a member serves only once a quorum exists).</summary>
public sealed class EnsembleFixture : IAsyncLifetime
{
    /// <summary>The members, by id 1..3.</summary>
    public IReadOnlyList<ZooKeeperServer> Servers { get; private set; } = [];

    /// <summary>"host:port,host:port,host:port".</summary>
    public string ConnectString => string.Join(",", Servers.Select(s => s.Address));

    /// <summary>The member whose client port is <paramref name="address"/>.</summary>
    public ZooKeeperServer ByAddress(string address) => Servers.Single(s => s.Address == address);

    /// <summary>The current leader (asks every running member for its mode).</summary>
    public async Task<ZooKeeperServer> LeaderAsync(CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            foreach (var s in Servers.Where(s => s.IsRunning))
            {
                if (await s.ModeAsync(deadline.Token) == "leader")
                {
                    return s;
                }
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Servers = ZooKeeperServer.Ensemble(3);
        await Task.WhenAll(Servers.Select(s => s.StartAsync()));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var s in Servers)
        {
            await s.DisposeAsync();
        }
    }
}
