namespace DistributedCron;

/// <summary>A cron expression is invalid. The message names the field and the offending text.</summary>
public sealed class CronFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public CronFormatException(string message, string expression, string? field = null)
        : base(message)
    {
        Expression = expression;
        Field = field;
    }

    /// <summary>The whole expression that was rejected.</summary>
    public string Expression { get; }

    /// <summary>The field that is wrong ("Seconds", "Minutes", "Hours", "Day of month", "Month", "Day of week"), if one is.</summary>
    public string? Field { get; }
}
