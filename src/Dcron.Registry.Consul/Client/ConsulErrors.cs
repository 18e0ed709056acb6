using System.Net;
using System.Text;

namespace DistributedCron.Registry.Consul.Client;

/// <summary>
/// Maps Consul's error answers (plain-text bodies, matched by substring and case-insensitively, because a client
/// agent may prefix them with <c>rpc error making call: </c>) to the registry's exception types.
/// </summary>
internal static class ConsulErrors
{
    /// <summary>Texts of transient server states: no leader, no servers, a leader that is not ready yet.</summary>
    private static readonly string[] Transient =
    [
        "No cluster leader", "No known Consul servers", "Not ready to serve consistent reads", "rate limit",
        "connection refused", "i/o timeout", "EOF",
    ];

    public static bool IsAclDenial(string? text) =>
        text is not null && (text.Contains("Permission denied", StringComparison.OrdinalIgnoreCase)
            || text.Contains("ACL not found", StringComparison.OrdinalIgnoreCase));

    public static RegistryException Map(string address, string what, HttpStatusCode status, byte[] body)
    {
        var text = Text(body);
        if (status == HttpStatusCode.Forbidden || IsAclDenial(text))
        {
            var hint = text.Contains("ACL not found", StringComparison.OrdinalIgnoreCase)
                ? "the token is unknown to the Consul servers (check ConsulRegistryOptions.Token)"
                : "the token lacks a permission (it needs key_prefix \"<namespace>/\" write and session write on the agent's node)";
            return new RegistryAuthenticationException($"Consul at {address} refused {what}: {text} ({hint}).");
        }

        if (status is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
            || (status == HttpStatusCode.InternalServerError && Transient.Any(t => text.Contains(t, StringComparison.OrdinalIgnoreCase))))
        {
            return new RegistryUnavailableException($"Consul at {address} could not serve {what} (HTTP {(int)status}): {text}");
        }

        return new ConsulApiException($"Consul at {address} failed {what} (HTTP {(int)status}): {text}", address, status, text);
    }

    /// <summary>The body as text, at most 500 characters.</summary>
    public static string Text(byte[] body)
    {
        var s = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 2000)).Trim();
        return s.Length <= 500 ? s : s[..500] + "…";
    }
}
