namespace DistributedCron.Registry.ZooKeeper.Client;

/// <summary>A parsed connect string: <c>host:port,host:port[/chroot]</c>.</summary>
internal sealed record ZkConnectString(IReadOnlyList<ZkServerAddress> Servers, string Chroot)
{
    public const int DefaultPort = 2181;

    /// <summary>The servers as written, for messages: "h1:p1,h2:p2".</summary>
    public string ServerList => string.Join(",", Servers);

    /// <summary>Parses a connect string; throws <see cref="ArgumentException"/> naming the bad part.</summary>
    public static ZkConnectString Parse(string? value, string paramName = "ConnectString")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException("The ZooKeeper connect string is empty; expected \"host:port[,host:port…][/chroot]\".", paramName);
        }

        var s = value.Trim();
        var chroot = "";
        var slash = s.IndexOf('/');
        if (slash >= 0)
        {
            chroot = s[slash..].TrimEnd('/');
            s = s[..slash];
            if (chroot.Length > 0)
            {
                ValidateChroot(chroot, value, paramName);
            }
        }

        var servers = new List<ZkServerAddress>();
        foreach (var part in s.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                throw new ArgumentException($"The ZooKeeper connect string '{value}' has an empty server entry.", paramName);
            }

            servers.Add(ParseServer(part, value, paramName));
        }

        return new ZkConnectString(servers, chroot);
    }

    private static ZkServerAddress ParseServer(string part, string whole, string paramName)
    {
        string host;
        string? portText = null;
        if (part.StartsWith('['))
        {
            var close = part.IndexOf(']');
            if (close < 0)
            {
                throw new ArgumentException($"Server '{part}' in the ZooKeeper connect string '{whole}' has an unclosed '['.", paramName);
            }

            host = part[1..close];
            var rest = part[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    throw new ArgumentException($"Server '{part}' in the ZooKeeper connect string '{whole}' is malformed.", paramName);
                }

                portText = rest[1..];
            }
        }
        else
        {
            var colon = part.LastIndexOf(':');
            host = colon < 0 ? part : part[..colon];
            portText = colon < 0 ? null : part[(colon + 1)..];
        }

        var port = DefaultPort;
        if (portText is not null && (!int.TryParse(portText, out port) || port is < 1 or > 65535))
        {
            throw new ArgumentException($"Server '{part}' in the ZooKeeper connect string '{whole}' has an invalid port '{portText}'.", paramName);
        }

        if (host.Length == 0 || host.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"Server '{part}' in the ZooKeeper connect string '{whole}' has an invalid host.", paramName);
        }

        return new ZkServerAddress(host, port);
    }

    private static void ValidateChroot(string chroot, string whole, string paramName)
    {
        foreach (var seg in chroot[1..].Split('/'))
        {
            if (seg.Length == 0 || seg is "." or ".." || seg.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                throw new ArgumentException($"The chroot '{chroot}' in the ZooKeeper connect string '{whole}' has an invalid segment '{seg}'.", paramName);
            }
        }
    }
}

/// <summary>One server of the ensemble.</summary>
internal sealed record ZkServerAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
