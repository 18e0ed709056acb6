using System.Net.Http.Headers;
using System.Text.Json;

namespace DistributedCron.Registry.Etcd.Client;

internal sealed partial class EtcdHttpClient
{
    /// <summary>
    /// The auth token for one member, fetched once (single flight) and kept until etcd rejects it. etcd 3.4's
    /// default "simple" tokens are only valid on the member that issued them, so each member gets its own.
    /// </summary>
    /// <returns>The token, or "" when the member has authentication disabled.</returns>
    private async Task<string> GetTokenAsync(int index, CancellationToken ct)
    {
        var auth = _auth[index];
        if (auth.Token is { } cached)
        {
            return cached;
        }

        await auth.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (auth.Token is { } again)
            {
                return again;
            }

            var body = JsonSerializer.SerializeToUtf8Bytes(new AuthenticateRequest { Name = _username!, Password = _password ?? "" },
                EtcdJsonContext.Default.AuthenticateRequest);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_endpoints[index], "v3/auth/authenticate"))
            {
                Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                var token = Deserialize(bytes, EtcdJsonContext.Default.AuthenticateResponse, index, "v3/auth/authenticate").Token;
                if (string.IsNullOrEmpty(token))
                {
                    throw new RegistryAuthenticationException($"etcd at {_names[index]} authenticated user '{_username}' but returned no token.");
                }

                EtcdLog.Authenticated(_logger, _names[index], _username!);
                auth.Token = token;
                return token;
            }

            ErrorBody? error = null;
            try
            {
                error = JsonSerializer.Deserialize(bytes, EtcdJsonContext.Default.ErrorBody);
            }
            catch (JsonException)
            {
                // judged by the status code below
            }

            var message = error?.Message ?? $"HTTP {(int)response.StatusCode}";
            if (message.Contains("authentication is not enabled", StringComparison.Ordinal))
            {
                EtcdLog.AuthDisabled(_logger, _names[index], _username!);
                auth.Token = "";
                return "";
            }

            var failure = ClassifyError(index, "v3/auth/authenticate", error?.Code ?? -1, message, (int)response.StatusCode);
            if (failure.Kind == FailureKind.Final)
            {
                throw failure.Exception!;
            }

            throw new EndpointFailedException($"authenticate failed: {message}");
        }
        finally
        {
            auth.Gate.Release();
        }
    }

    private sealed class EndpointAuth
    {
        private string? _token;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public string? Token
        {
            get => Volatile.Read(ref _token);
            set => Volatile.Write(ref _token, value);
        }

        /// <summary>Forgets the token if it is still the one that was rejected (a newer one is kept).</summary>
        public void Invalidate(string? rejected)
        {
            if (rejected is null)
            {
                Volatile.Write(ref _token, null);
            }
            else
            {
                Interlocked.CompareExchange(ref _token, null, rejected);
            }
        }
    }

    /// <summary>A member failed in a way that another member may not (unreachable, no leader): try the next.</summary>
    private sealed class EndpointFailedException(string message) : Exception(message);
}
