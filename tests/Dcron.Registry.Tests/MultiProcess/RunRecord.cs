using System.Globalization;

namespace DistributedCron.Testing.MultiProcess;

/// <summary>One line of the shared run log: <c>task scheduledAtUnixMs nodeId fencingToken isCatchUp startedUnixMs</c>.</summary>
public sealed record RunRecord(string Task, long ScheduledMs, string NodeId, long FencingToken, bool IsCatchUp, long StartedMs)
{
    /// <summary>Start lag (started − scheduled) in milliseconds.</summary>
    public long LagMs => StartedMs - ScheduledMs;

    /// <summary>Parses the run log; a torn or malformed line fails loudly.</summary>
    public static IReadOnlyList<RunRecord> ReadLog(string path)
    {
        var list = new List<RunRecord>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0)
            {
                continue;
            }

            var f = line.Split('\t');
            if (f.Length != 6
                || !long.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var scheduled)
                || !long.TryParse(f[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var token)
                || !long.TryParse(f[5], NumberStyles.Integer, CultureInfo.InvariantCulture, out var started)
                || f[4] is not ("0" or "1"))
            {
                throw new FormatException($"{path}:{n}: malformed run log line '{line}'.");
            }

            list.Add(new RunRecord(f[0], scheduled, f[2], token, f[4] == "1", started));
        }

        return list;
    }
}
