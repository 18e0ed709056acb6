using StackExchange.Redis;

namespace DistributedCron.Registry.Redis.Client;

/// <summary>Maps StackExchange.Redis failures to the registry's typed exceptions.</summary>
internal static class RedisErrors
{
    /// <summary>The typed exception for <paramref name="ex"/>, or null when it is not a Redis failure.</summary>
    public static Exception? Map(Exception ex, string endpoints, string operation)
    {
        if (IsTlsFailure(ex))
        {
            return new RegistryAuthenticationException(
                $"Redis at {endpoints}: the TLS handshake failed during {operation} (server certificate rejected: check sslHost, the CA and the CertificateValidation callback of the multiplexer's ConfigurationOptions). {TlsMessage(ex)}",
                ex);
        }

        if (IsAuthenticationFailure(ex))
        {
            return new RegistryAuthenticationException(
                $"Redis at {endpoints} refused the credentials during {operation} (NOAUTH/WRONGPASS: check the password of the multiplexer's ConfigurationOptions). {FirstLine(ex.Message)}",
                ex);
        }

        return ex switch
        {
            RedisTimeoutException => new RegistryUnavailableException(
                $"Redis at {endpoints} did not answer {operation} in time: {FirstLine(ex.Message)}", ex),
            RedisConnectionException => new RegistryUnavailableException(
                $"Redis at {endpoints} is unreachable ({operation}): {FirstLine(ex.Message)}", ex),
            RedisServerException when IsTransient(ex.Message) => new RegistryUnavailableException(
                $"Redis at {endpoints} cannot serve {operation} right now: {FirstLine(ex.Message)}", ex),
            RedisServerException => new RegistryException(
                $"Redis at {endpoints} rejected {operation}: {FirstLine(ex.Message)}", ex),
            RedisException => new RegistryException(
                $"Redis at {endpoints} failed {operation}: {FirstLine(ex.Message)}", ex),
            _ => null,
        };
    }

    /// <summary>True when the failure (or one it wraps) is a refused AUTH.</summary>
    public static bool IsAuthenticationFailure(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure })
            {
                return true;
            }

            if (e is RedisException && ContainsAuthError(e.Message))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the failure (or one it wraps) is a failed TLS handshake.</summary>
    public static bool IsTlsFailure(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Security.Authentication.AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    private static string TlsMessage(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Security.Authentication.AuthenticationException a)
            {
                return a.Message;
            }
        }

        return "";
    }

    // Replies of a server that is starting (AOF replay), busy with a script, or without a master / slot owner.
    private static bool IsTransient(string message) =>
        message.StartsWith("LOADING", StringComparison.Ordinal)
        || message.StartsWith("BUSY", StringComparison.Ordinal)
        || message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
        || message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
        || message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
        || message.StartsWith("READONLY", StringComparison.Ordinal);

    private static bool ContainsAuthError(string message) =>
        message.Contains("NOAUTH", StringComparison.Ordinal)
        || message.Contains("WRONGPASS", StringComparison.Ordinal)
        || message.Contains("invalid password", StringComparison.OrdinalIgnoreCase)
        || message.Contains("AuthenticationFailure", StringComparison.Ordinal);

    /// <summary>The first line of a (multi-line) client message.</summary>
    public static string FirstLine(string s)
    {
        var i = s.IndexOf('\n');
        return i < 0 ? s : s[..i].TrimEnd('\r');
    }
}
