using System.Text.Json;

namespace DistributedCron.Tests.Cron;

/// <summary>One row of Vectors/next.json.</summary>
public sealed record NextVector(string Id, string Expr, string Tz, DateTimeOffset From, bool Inclusive, DateTimeOffset? Expected, string[] Tags);

/// <summary>One row of Vectors/invalid.json.</summary>
public sealed record InvalidVector(string Id, string Expr, string? ErrorMentions, string[] Tags);

/// <summary>
/// Loads the conformance vectors copied next to the test assembly (see the csproj). They come from
/// shared/cron and are described in its README: Cronos semantics plus <c>@every</c> and <c>CRON_TZ=</c>.
/// </summary>
public static class CronVectors
{
    private static readonly Lazy<IReadOnlyDictionary<string, NextVector>> NextRows = new(LoadNext);
    private static readonly Lazy<IReadOnlyDictionary<string, InvalidVector>> InvalidRows = new(LoadInvalid);

    /// <summary>next.json by id.</summary>
    public static IReadOnlyDictionary<string, NextVector> Next => NextRows.Value;

    /// <summary>invalid.json by id.</summary>
    public static IReadOnlyDictionary<string, InvalidVector> Invalid => InvalidRows.Value;

    private static JsonElement Read(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Cron", "Vectors", file);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.Clone();
    }

    private static string[] Tags(JsonElement row) => [.. row.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];

    private static IReadOnlyDictionary<string, NextVector> LoadNext() =>
        Read("next.json").EnumerateArray().Select(row => new NextVector(
                row.GetProperty("id").GetString()!,
                row.GetProperty("expr").GetString()!,
                row.GetProperty("tz").GetString()!,
                DateTimeOffset.Parse(row.GetProperty("from").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                row.GetProperty("inclusive").GetBoolean(),
                row.GetProperty("expected").ValueKind == JsonValueKind.Null
                    ? null
                    : DateTimeOffset.Parse(row.GetProperty("expected").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                Tags(row)))
            .ToDictionary(v => v.Id);

    private static IReadOnlyDictionary<string, InvalidVector> LoadInvalid() =>
        Read("invalid.json").EnumerateArray().Select(row => new InvalidVector(
                row.GetProperty("id").GetString()!,
                row.GetProperty("expr").GetString()!,
                row.TryGetProperty("error_mentions", out var mentions) ? mentions.GetString() : null,
                Tags(row)))
            .ToDictionary(v => v.Id);
}
