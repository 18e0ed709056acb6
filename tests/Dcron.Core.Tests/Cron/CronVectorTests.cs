using Xunit;

namespace DistributedCron.Tests.Cron;

/// <summary>Every conformance vector as its own test case, named by its id.</summary>
public sealed class CronVectorTests
{
    public static TheoryData<string> NextIds => [.. CronVectors.Next.Keys];

    public static TheoryData<string> InvalidIds => [.. CronVectors.Invalid.Keys];

    [Theory]
    [MemberData(nameof(NextIds))]
    public void Next(string id)
    {
        var v = CronVectors.Next[id];
        var expression = CronExpression.Parse(v.Expr);

        var actual = expression.GetNextOccurrence(v.From, CronExpression.FindTimeZone(v.Tz), v.Inclusive);

        if (v.Expected is null)
        {
            Assert.Null(actual);
            return;
        }

        Assert.NotNull(actual);
        Assert.Equal(v.Expected.Value.UtcDateTime, actual.Value.UtcDateTime);   // the instant
        Assert.Equal(v.Expected.Value.Offset, actual.Value.Offset);             // and the zone's offset at it
    }

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public void Invalid(string id)
    {
        var v = CronVectors.Invalid[id];

        var error = Assert.Throws<CronFormatException>(() => CronExpression.Parse(v.Expr));

        Assert.False(CronExpression.TryParse(v.Expr, out var parsed));
        Assert.Null(parsed);
        Assert.Equal(v.Expr, error.Expression);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));

        // Cronos's tests name the field in Cronos's words ("Days of month"); ours is the singular of the brief.
        if (v.ErrorMentions is { } mentions)
        {
            var field = mentions switch
            {
                "Days of month" => "Day of month",
                "Months" => "Month",
                "Days of week" => "Day of week",
                _ => mentions,
            };
            Assert.Contains(field, error.Message, StringComparison.Ordinal);
        }

        // A second zone prefix (CRON_TZ=UTC TZ=UTC ...) is reported as such, not as a bad Seconds field.
        var words = v.Expr.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var secondPrefix = words.Length > 1 && words[0].Contains('=') && words[1].Contains('=');
        var tag = v.Tags.FirstOrDefault(t => t.StartsWith("error-field:", StringComparison.Ordinal));
        if (tag is not null && !secondPrefix)
        {
            var expected = tag["error-field:".Length..] switch
            {
                "seconds" => "Seconds",
                "minutes" => "Minutes",
                "hours" => "Hours",
                "day-of-month" => "Day of month",
                "month" => "Month",
                _ => "Day of week",
            };
            Assert.Equal(expected, error.Field);
            Assert.StartsWith(expected + ": '", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void All_vectors_are_present()
    {
        Assert.Equal(1045, CronVectors.Next.Count);
        Assert.Equal(297, CronVectors.Invalid.Count);
    }
}
