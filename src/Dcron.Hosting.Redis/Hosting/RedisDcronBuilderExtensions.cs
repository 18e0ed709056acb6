using DistributedCron.Registry.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DistributedCron.Hosting;

/// <summary>Runs the host's Dcron node on Redis.</summary>
public static class RedisDcronBuilderExtensions
{
    /// <summary>The registry's name and configuration sub-section: <c>Dcron:Redis</c>.</summary>
    public const string SectionName = "Redis";

    /// <summary>
    /// Uses a <see cref="RedisRegistry"/>. Its <see cref="RedisRegistryOptions"/> are bound from <c>Dcron:Redis</c>
    /// (<c>Namespace</c>, <c>Database</c>, <c>OperationTimeout</c>, …) and validated at startup. The connection is the
    /// container's <see cref="IConnectionMultiplexer"/> when one is registered (it stays the application's); otherwise
    /// the registry connects with the StackExchange.Redis configuration string <c>Dcron:Redis:Configuration</c>
    /// (for example <c>redis-a:6379,redis-b:6379,password=…,ssl=true</c>; <c>abortConnect=false</c> is added unless
    /// given, so the host starts while Redis is down) and closes that connection when the host is disposed.
    /// </summary>
    /// <param name="builder">The Dcron builder.</param>
    /// <param name="configure">Edits the registry options after binding.</param>
    /// <exception cref="InvalidOperationException">At startup: no multiplexer is registered and <c>Dcron:Redis:Configuration</c> is not set.</exception>
    public static DcronBuilder UseRedis(this DcronBuilder builder, Action<RedisRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = $"{builder.SectionPath}:{SectionName}";
        return builder.UseRedis(
            sp =>
            {
                if (sp.GetService<IConnectionMultiplexer>() is { } shared)
                {
                    return (shared, false);
                }

                var text = sp.GetService<IConfiguration>()?[$"{section}:Configuration"];
                if (string.IsNullOrWhiteSpace(text))
                {
                    throw new InvalidOperationException(
                        $"The Redis registry has no connection: set {section}:Configuration (a StackExchange.Redis configuration string such as 127.0.0.1:6379), register an IConnectionMultiplexer, or call UseRedis(configuration)/UseRedis(multiplexerFactory).");
                }

                return (Connect(text), true);
            },
            configure);
    }

    /// <summary>
    /// Uses a <see cref="RedisRegistry"/> that connects with the StackExchange.Redis configuration string
    /// <paramref name="configuration"/> (<c>abortConnect=false</c> added unless given) and closes the connection when
    /// the host is disposed. Options as in <see cref="UseRedis(DcronBuilder, Action{RedisRegistryOptions}?)"/>.
    /// </summary>
    /// <param name="builder">The Dcron builder.</param>
    /// <param name="configuration">For example <c>127.0.0.1:6379,password=…</c>.</param>
    /// <param name="configure">Edits the registry options after binding.</param>
    public static DcronBuilder UseRedis(this DcronBuilder builder, string configuration, Action<RedisRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        return builder.UseRedis(_ => (Connect(configuration), true), configure);
    }

    /// <summary>
    /// Uses a <see cref="RedisRegistry"/> over the multiplexer <paramref name="multiplexer"/> returns; the registry does
    /// not close it (unless <see cref="RedisRegistryOptions.DisposeMultiplexer"/> is set). Options as in
    /// <see cref="UseRedis(DcronBuilder, Action{RedisRegistryOptions}?)"/>.
    /// </summary>
    /// <param name="builder">The Dcron builder.</param>
    /// <param name="multiplexer">Returns the connection to use.</param>
    /// <param name="configure">Edits the registry options after binding.</param>
    public static DcronBuilder UseRedis(this DcronBuilder builder, Func<IServiceProvider, IConnectionMultiplexer> multiplexer, Action<RedisRegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(multiplexer);
        return builder.UseRedis(sp => (multiplexer(sp), false), configure);
    }

    private static DcronBuilder UseRedis(this DcronBuilder builder, Func<IServiceProvider, (IConnectionMultiplexer Mux, bool Owned)> connect, Action<RedisRegistryOptions>? configure) =>
        builder.UseRegistry<RedisRegistryOptions>(
            SectionName,
            (sp, options) =>
            {
                var (mux, owned) = connect(sp);
                if (owned)
                {
                    // The connection was made here for the registry alone: closing it is the registry's job.
                    options.DisposeMultiplexer = true;
                }

                return new RedisRegistry(mux, options, sp.GetService<ILogger<RedisRegistry>>());
            },
            configure,
            o => o.Validate());

    private static ConnectionMultiplexer Connect(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        if (!configuration.Contains("abortConnect", StringComparison.OrdinalIgnoreCase))
        {
            options.AbortOnConnectFail = false;
        }

        return ConnectionMultiplexer.Connect(options);
    }
}
