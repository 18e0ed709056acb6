using System.Text.Json;
using System.Text.Json.Serialization;

namespace DistributedCron;

/// <summary>
/// The JSON encoding registries use for <see cref="Node"/>, <see cref="TaskMeta"/>, <see cref="TaskFireState"/>
/// and <see cref="FireOutcome"/>, so every backend stores the same documents.
/// </summary>
public static class RegistryJson
{
    /// <summary>The serializer options: snake_case names, enums as lower-case strings, no indentation.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Serializes a value.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Deserializes a value, throwing <see cref="RegistryException"/> for a corrupt document.</summary>
    public static T Deserialize<T>(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options)
                ?? throw new RegistryException($"Registry document decoded to null: {Truncate(json)}");
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"Registry document is not a valid {typeof(T).Name}: {Truncate(json)}", ex);
        }
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }
}
