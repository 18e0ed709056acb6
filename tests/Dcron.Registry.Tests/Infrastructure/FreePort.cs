using System.Net;
using System.Net.Sockets;

namespace DistributedCron.Testing;

/// <summary>Finds free TCP ports on 127.0.0.1.</summary>
public static class FreePort
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Handed = new();

    /// <summary>A port that is free now and was not handed out before by this process.</summary>
    public static int Next()
    {
        lock (Gate)
        {
            for (var i = 0; i < 100; i++)
            {
                using var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                var port = ((IPEndPoint)l.LocalEndpoint).Port;
                l.Stop();
                if (Handed.Add(port))
                {
                    return port;
                }
            }

            throw new InvalidOperationException("No free loopback port found.");
        }
    }
}
