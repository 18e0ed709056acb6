using System.Text;

namespace DistributedCron;

/// <summary>Input rules shared by the engine and every registry.</summary>
public static class DcronLimits
{
    /// <summary>The longest task name.</summary>
    public const int MaxTaskNameLength = 200;

    /// <summary>The default payload limit, in UTF-8 bytes (64 KiB).</summary>
    public const int MaxPayloadBytes = 64 * 1024;

    /// <summary>True when <paramref name="name"/> is a legal task name.</summary>
    public static bool IsValidTaskName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxTaskNameLength || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or ':' or '@' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the value when <paramref name="name"/> is not a legal task name.</summary>
    public static void ValidateTaskName(string? name, string paramName = "name")
    {
        if (!IsValidTaskName(name))
        {
            throw new ArgumentException(
                $"Illegal task name '{name}': use 1–{MaxTaskNameLength} characters of [A-Za-z0-9._:@-], starting with a letter or digit.",
                paramName);
        }
    }

    /// <summary>Validates the name and the payload size of a task.</summary>
    /// <exception cref="ArgumentException">The name is illegal or the cron format is empty.</exception>
    /// <exception cref="PayloadTooLargeException">The payload exceeds <paramref name="maxPayloadBytes"/>.</exception>
    public static void ValidateTaskMeta(TaskMeta meta, int maxPayloadBytes = MaxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(meta);
        ValidateTaskName(meta.Name, nameof(meta));
        if (string.IsNullOrWhiteSpace(meta.CronFormat))
        {
            throw new ArgumentException($"Task '{meta.Name}' has an empty cron format.", nameof(meta));
        }

        if (meta.Payload is { } p)
        {
            var bytes = Encoding.UTF8.GetByteCount(p);
            if (bytes > maxPayloadBytes)
            {
                throw new PayloadTooLargeException(meta.Name, bytes, maxPayloadBytes);
            }
        }
    }
}
