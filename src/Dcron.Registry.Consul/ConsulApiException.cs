using System.Net;

namespace DistributedCron.Registry.Consul;

/// <summary>
/// Consul answered a request with an error this registry does not expect (for example 400 or an unknown 500), or
/// with a body it could not read. The message names the address, the request and Consul's error text.
/// </summary>
public sealed class ConsulApiException : RegistryException
{
    /// <summary>Creates the exception.</summary>
    public ConsulApiException(string message, string address, HttpStatusCode? statusCode, string? responseBody, Exception? inner = null)
        : base(message, inner)
    {
        Address = address;
        StatusCode = statusCode;
        ResponseBody = responseBody;
    }

    /// <summary>The agent's address.</summary>
    public string Address { get; }

    /// <summary>The HTTP status Consul answered with (null when the body was unreadable).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Consul's error text (plain text in Consul's API), truncated.</summary>
    public string? ResponseBody { get; }
}
