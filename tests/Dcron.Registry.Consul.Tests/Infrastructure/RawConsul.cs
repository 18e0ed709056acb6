using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace DistributedCron.Registry.Consul.Tests.Infrastructure;

/// <summary>Plain HTTP calls to a Consul (emulator) for tests of the wire semantics.</summary>
public sealed class RawConsul(string address, string? token = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Sends a request; the body is raw bytes of <paramref name="body"/> (UTF-8).</summary>
    public async Task<Answer> SendAsync(HttpMethod method, string pathAndQuery, string? body = null, string? withToken = null)
    {
        using var req = new HttpRequestMessage(method, pathAndQuery);
        if (body is not null)
        {
            req.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        }

        if ((withToken ?? token) is { } t)
        {
            req.Headers.Add("X-Consul-Token", t);
        }

        using var resp = await _http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        ulong? index = resp.Headers.TryGetValues("X-Consul-Index", out var v) ? ulong.Parse(v.First(), CultureInfo.InvariantCulture) : null;
        return new Answer(resp.StatusCode, text, index);
    }

    /// <summary>GET.</summary>
    public Task<Answer> GetAsync(string pathAndQuery, string? withToken = null) => SendAsync(HttpMethod.Get, pathAndQuery, null, withToken);

    /// <summary>PUT.</summary>
    public Task<Answer> PutAsync(string pathAndQuery, string? body = null, string? withToken = null) => SendAsync(HttpMethod.Put, pathAndQuery, body, withToken);

    /// <summary>DELETE.</summary>
    public Task<Answer> DeleteAsync(string pathAndQuery) => SendAsync(HttpMethod.Delete, pathAndQuery);

    /// <summary>Creates a session from a JSON body and returns its id.</summary>
    public async Task<string> SessionAsync(string json)
    {
        var a = await PutAsync("/v1/session/create", json);
        if (a.Status != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"session create: {(int)a.Status} {a.Body}");
        }

        return a.Json.GetProperty("ID").GetString()!;
    }

    /// <summary>The one entry of a key (a GET that must find it).</summary>
    public async Task<JsonElement> EntryAsync(string key)
    {
        var a = await GetAsync("/v1/kv/" + key);
        if (a.Status != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {key}: {(int)a.Status} {a.Body}");
        }

        return a.Json[0];
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>An answer: status, body, X-Consul-Index.</summary>
    public sealed record Answer(HttpStatusCode Status, string Body, ulong? Index)
    {
        /// <summary>The body as JSON.</summary>
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    }
}
