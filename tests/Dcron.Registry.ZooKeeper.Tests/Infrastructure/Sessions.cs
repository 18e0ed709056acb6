using DistributedCron.Registry.ZooKeeper.Client;

namespace DistributedCron.Registry.ZooKeeper.Tests.Infrastructure;

/// <summary>Ends a session from outside, the way a real expiry looks to its owner.</summary>
internal static class Sessions
{
    /// <summary>
    /// Attaches to the session from a second connection (the server then closes the owner's connection) and sends
    /// closeSession: its ephemeral znodes go at once and the owner's next re-attach is answered "expired".
    /// </summary>
    public static async Task KillAsync(string host, int port, long sessionId, byte[] password, CancellationToken ct)
    {
        // The owner re-attaches as soon as it is kicked, which may in turn kick this connection before the
        // closeSession is answered: try again until the server has closed the session.
        for (var attempt = 1; ; attempt++)
        {
            var request = ZkCodec.ConnectRequest(0, 4000, sessionId, password);
            ZkConnection? conn = null;
            try
            {
                (conn, var hs) = await ZkConnection.OpenAsync(host, port, request, [], _ => { }, _ => { }, ct).ConfigureAwait(false);
                if (hs.TimeoutMs <= 0)
                {
                    return; // closed (or expired) already
                }

                await conn.SendAsync(ZkOp.CloseSession, null, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is ZkConnectionLossException or IOException && attempt < 50)
            {
                // kicked by the owner's re-attach (during the handshake or before the reply): again
                await Task.Delay(10 * attempt, ct).ConfigureAwait(false);
            }
            finally
            {
                conn?.Abort(new IOException("done"));
            }
        }
    }

    /// <summary>Kills the session of <paramref name="client"/> on the server at <paramref name="address"/> ("host:port").</summary>
    public static Task KillAsync(ZkClient client, string address, CancellationToken ct)
    {
        var colon = address.LastIndexOf(':');
        return KillAsync(address[..colon], int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture),
            client.SessionId, client.SessionPassword, ct);
    }
}
