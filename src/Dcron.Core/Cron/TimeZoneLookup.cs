using System.Buffers;
using System.Security;

namespace DistributedCron;

/// <summary>Finds a <see cref="TimeZoneInfo"/> by IANA id ("America/New_York") or Windows id ("Eastern Standard Time").</summary>
internal static class TimeZoneLookup
{
    private static readonly SearchValues<char> IdCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ./_-+");

    /// <summary>True with the zone when <paramref name="id"/> names one this machine knows.</summary>
    public static bool TryFind(string? id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        // Ids are ASCII letters, digits and " ./_-+" (IANA "America/Port-au-Prince", "Etc/GMT+5"; Windows
        // "W. Europe Standard Time"). Anything else is refused here: ICU's id conversion would otherwise accept, for
        // example, an id with a trailing NUL.
        if (string.IsNullOrWhiteSpace(id) || id.Length > 128 || id.AsSpan().ContainsAnyExcept(IdCharacters))
        {
            return false;
        }

        if (id is "UTC" or "Etc/UTC" or "Etc/Universal" or "Universal" or "Etc/Zulu" or "Zulu")
        {
            return true;
        }

        try
        {
            // On Linux and macOS this takes IANA ids, and Windows ids when ICU is present; on Windows the reverse.
            if (TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found))
            {
                zone = found;
                return true;
            }

            // A machine without ICU (invariant globalization) only knows its own kind of id: translate explicitly.
            if ((TimeZoneInfo.TryConvertWindowsIdToIanaId(id, out var other) || TimeZoneInfo.TryConvertIanaIdToWindowsId(id, out other))
                && TimeZoneInfo.TryFindSystemTimeZoneById(other, out found))
            {
                zone = found;
                return true;
            }
        }
        catch (Exception e) when (e is InvalidTimeZoneException or IOException or UnauthorizedAccessException or SecurityException or ArgumentException)
        {
            // Unreadable or corrupt zone data: treat it as not found.
        }

        return false;
    }
}
