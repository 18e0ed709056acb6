using Microsoft.Extensions.Options;

namespace DistributedCron.Hosting;

/// <summary>
/// Checks <see cref="DcronHostingOptions"/> when the host starts, with the same rules as <see cref="DcronOptions"/>,
/// and reports every bad value at once, each named by its configuration key (<c>Dcron:NodeTtl</c>).
/// </summary>
/// <remarks>The node's constructor checks the same rules again, so a rule missed here still fails the start.</remarks>
internal sealed class DcronHostingOptionsValidator(string sectionPath) : IValidateOptions<DcronHostingOptions>
{
    public ValidateOptionsResult Validate(string? name, DcronHostingOptions options)
    {
        if (!string.IsNullOrEmpty(name) && name != Microsoft.Extensions.Options.Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        string Key(string property) => $"{sectionPath}:{property}";

        if (!Enum.IsDefined(options.Strategy))
        {
            failures.Add($"{Key(nameof(options.Strategy))} '{options.Strategy}' is not a strategy: use one of {string.Join(", ", Enum.GetNames<AssignerStrategy>())}");
        }

        if (!string.IsNullOrWhiteSpace(options.NodeId) && !DcronLimits.IsValidTaskName(options.NodeId))
        {
            failures.Add($"{Key(nameof(options.NodeId))} '{options.NodeId}' is illegal: use 1–{DcronLimits.MaxTaskNameLength} characters of [A-Za-z0-9._:@-], starting with a letter or digit (or leave it empty for a generated id)");
        }

        if (!string.IsNullOrWhiteSpace(options.NodeIp) && (options.NodeIp.Length > 100 || options.NodeIp.Any(char.IsWhiteSpace)))
        {
            failures.Add($"{Key(nameof(options.NodeIp))} '{options.NodeIp}' is illegal: at most 100 characters without whitespace");
        }

        if (options.Weight < 1)
        {
            failures.Add($"{Key(nameof(options.Weight))} must be at least 1 (got {options.Weight})");
        }

        var heartbeatOk = InRange(failures, Key(nameof(options.HeartbeatInterval)), options.HeartbeatInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        var ttlOk = InRange(failures, Key(nameof(options.NodeTtl)), options.NodeTtl, TimeSpan.FromMilliseconds(20), TimeSpan.FromDays(1));
        if (heartbeatOk && ttlOk && options.NodeTtl <= options.HeartbeatInterval)
        {
            failures.Add($"{Key(nameof(options.NodeTtl))} must exceed {Key(nameof(options.HeartbeatInterval))} (NodeTtl {options.NodeTtl}, HeartbeatInterval {options.HeartbeatInterval})");
        }

        try
        {
            _ = DcronHostingOptions.ResolveTimeZone(options.TimeZone);
        }
        catch (TimeZoneNotFoundException ex)
        {
            failures.Add($"{Key(nameof(options.TimeZone))}: {ex.Message}");
        }

        if (!Enum.IsDefined(options.MisfirePolicy))
        {
            failures.Add($"{Key(nameof(options.MisfirePolicy))} '{options.MisfirePolicy}' is not a misfire policy: use one of {string.Join(", ", Enum.GetNames<MisfirePolicy>())}");
        }

        InRange(failures, Key(nameof(options.MisfireGrace)), options.MisfireGrace, TimeSpan.FromSeconds(1), TimeSpan.FromDays(366));
        InRange(failures, Key(nameof(options.CatchUpInterval)), options.CatchUpInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromDays(1));
        if (options.MaxPayloadBytes is < 1 or > 16 * 1024 * 1024)
        {
            failures.Add($"{Key(nameof(options.MaxPayloadBytes))} must be between 1 and 16777216 (got {options.MaxPayloadBytes})");
        }

        InRange(failures, Key(nameof(options.ShutdownTimeout)), options.ShutdownTimeout, TimeSpan.Zero, TimeSpan.FromHours(1));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool InRange(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value >= min && value <= max)
        {
            return true;
        }

        failures.Add($"{key} must be between {min} and {max} (got {value})");
        return false;
    }
}
