using System.Globalization;

namespace DistributedCron.TestHost;

/// <summary>
/// Command line of the test host:
/// <c>--backend &lt;redis|etcd|zookeeper|consul&gt; --connect &lt;string&gt; --namespace &lt;ns&gt; --node-id &lt;id&gt;
/// --log &lt;path&gt; --tasks &lt;N&gt; [--heartbeat-ms N] [--ttl-ms N] [--clock-offset-ms N] [--catch-up-ms N]
/// [--option key=value]…</c>. <c>--option</c> pairs are free-form settings for a backend (credentials, TLS…).
/// </summary>
internal sealed record HostArgs
{
    public required string Backend { get; init; }

    public required string Connect { get; init; }

    public required string Namespace { get; init; }

    public required string NodeId { get; init; }

    public required string LogPath { get; init; }

    public required int Tasks { get; init; }

    /// <summary>The schedules task <c>i</c> takes in turn (<c>i mod Count</c>); each one parses as a cron expression.</summary>
    public IReadOnlyList<string> Schedules { get; init; } = [DefaultSchedule];

    /// <summary>The schedule of every task when <c>--schedules</c> is absent.</summary>
    public const string DefaultSchedule = "* * * * * *";

    /// <summary>The name of task <paramref name="i"/> ("t000", "t001", …; shared with the tools that read the run log).</summary>
    public static string TaskName(int i) => "t" + i.ToString("D3", CultureInfo.InvariantCulture);

    public TimeSpan? Heartbeat { get; init; }

    public TimeSpan? Ttl { get; init; }

    public TimeSpan ClockOffset { get; init; }

    public TimeSpan? CatchUpInterval { get; init; }

    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    public static HostArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected '--name value', got '{name}'.");
            }

            var value = args[++i];
            if (name == "--option")
            {
                var eq = value.IndexOf('=');
                if (eq <= 0)
                {
                    throw new ArgumentException($"--option expects key=value, got '{value}'.");
                }

                options[value[..eq]] = value[(eq + 1)..];
            }
            else
            {
                values[name[2..]] = value;
            }
        }

        string Required(string n) => values.TryGetValue(n, out var v) && v.Length > 0 ? v : throw new ArgumentException($"Missing --{n}.");
        TimeSpan? Ms(string n) => values.TryGetValue(n, out var v) ? TimeSpan.FromMilliseconds(int.Parse(v, CultureInfo.InvariantCulture)) : null;
        return new HostArgs
        {
            Backend = Required("backend"),
            Connect = Required("connect"),
            Namespace = Required("namespace"),
            NodeId = Required("node-id"),
            LogPath = Required("log"),
            Tasks = int.Parse(Required("tasks"), CultureInfo.InvariantCulture),
            Schedules = values.TryGetValue("schedules", out var sc) ? ParseSchedules(sc) : [DefaultSchedule],
            Heartbeat = Ms("heartbeat-ms"),
            Ttl = Ms("ttl-ms"),
            ClockOffset = Ms("clock-offset-ms") ?? TimeSpan.Zero,
            CatchUpInterval = Ms("catch-up-ms"),
            Options = options,
        };
    }

    /// <summary>Splits a '|'-separated list of cron expressions, checking each one (a bad one throws, naming it).</summary>
    public static IReadOnlyList<string> ParseSchedules(string text)
    {
        var list = text.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (list.Length == 0)
        {
            throw new ArgumentException($"--schedules '{text}' holds no cron expression.");
        }

        foreach (var s in list)
        {
            if (!CronExpression.TryParse(s, out _))
            {
                throw new ArgumentException($"--schedules: '{s}' is not a valid cron expression.");
            }
        }

        return list;
    }
}
