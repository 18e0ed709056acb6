using System.Net;
using System.Net.Sockets;
using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>
/// A server that accepts connections and never answers (network backends; subclass it when
/// <see cref="RegistryTestTarget.CreateRegistryForEndpointAsync"/> returns a client): calls fail with
/// <see cref="RegistryUnavailableException"/> within the timeout, and a cancelled token ends them sooner.
/// </summary>
public abstract class UnresponsiveServerConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    [Fact]
    public async Task A_call_to_a_silent_server_throws_RegistryUnavailable_within_the_timeout()
    {
        await using var hole = BlackHole.Start();
        var timeout = Target.UnreachableTimeout;
        var r = await ClientAsync(hole.Port, timeout);
        foreach (var (what, call) in FailureConformanceTests.EveryCallForSubclasses())
        {
            await FailsWithinAsync<RegistryUnavailableException>(() => call(r, Ct), (timeout * 2) + TimeSpan.FromSeconds(5), what);
        }
    }

    [Fact]
    public async Task Case28_Cancelling_a_call_to_a_silent_server_ends_it_promptly()
    {
        await using var hole = BlackHole.Start();
        var r = await ClientAsync(hole.Port, TimeSpan.FromMinutes(5));
        foreach (var (what, call) in FailureConformanceTests.EveryCallForSubclasses())
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(TimeSpan.FromMilliseconds(200));
            await FailsWithinAsync<OperationCanceledException>(() => call(r, cts.Token), Target.EventTimeout, what);
        }
    }

    private async Task<IRegistry> ClientAsync(int port, TimeSpan timeout) =>
        Own(await Target.CreateRegistryForEndpointAsync("127.0.0.1", port, NewNamespace(), timeout, Ct)
            ?? throw new InvalidOperationException($"{Target.GetType().Name} has no network client; do not subclass {nameof(UnresponsiveServerConformanceTests)}."));

    /// <summary>Accepts TCP connections on 127.0.0.1 and never reads or writes.</summary>
    private sealed class BlackHole : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly List<Socket> _held = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;

        private BlackHole()
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static BlackHole Start() => new();

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _accepting;
            }
            catch (OperationCanceledException)
            {
                // stopped by this dispose
            }

            lock (_held)
            {
                foreach (var s in _held)
                {
                    s.Dispose();
                }
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket s;
                try
                {
                    s = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (SocketException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (ObjectDisposedException) when (_stop.IsCancellationRequested)
                {
                    return;
                }

                lock (_held)
                {
                    _held.Add(s);
                }
            }
        }
    }
}
