namespace DistributedCron.Testing.Consul;

/// <summary>An access level of an ACL rule.</summary>
public enum AclAccess
{
    /// <summary>Nothing.</summary>
    Deny = 0,

    /// <summary>Read (and list).</summary>
    Read = 1,

    /// <summary>Write (includes read).</summary>
    Write = 2,
}

/// <summary>
/// One token's policy, in the shape of Consul's rules: <c>key_prefix "…" { policy = … }</c> (longest prefix wins) and
/// one <c>session_prefix ""</c> level for every node; or a management token that may do everything.
/// </summary>
public sealed record AclPolicy
{
    /// <summary>A policy that allows nothing (Consul's anonymous token with default policy deny).</summary>
    public static AclPolicy DenyAll { get; } = new() { AccessorId = "00000000-0000-0000-0000-000000000002" };

    /// <summary>The token's AccessorID (shown in denial messages).</summary>
    public string AccessorId { get; init; } = Guid.NewGuid().ToString();

    /// <summary>True for a management token.</summary>
    public bool Management { get; init; }

    /// <summary><c>key_prefix</c> rules: prefix → access.</summary>
    public IReadOnlyDictionary<string, AclAccess> KeyPrefixes { get; init; } = new Dictionary<string, AclAccess>();

    /// <summary>The <c>session_prefix ""</c> level.</summary>
    public AclAccess Sessions { get; init; }

    /// <summary>A token that may read and write every key and session.</summary>
    public static AclPolicy WriteEverything() => new() { KeyPrefixes = new Dictionary<string, AclAccess> { [""] = AclAccess.Write }, Sessions = AclAccess.Write };

    /// <summary>The access this policy grants on <paramref name="key"/> (longest matching prefix).</summary>
    public AclAccess KeyAccess(string key)
    {
        if (Management)
        {
            return AclAccess.Write;
        }

        var best = -1;
        var access = AclAccess.Deny;
        foreach (var (prefix, level) in KeyPrefixes)
        {
            if (prefix.Length > best && key.StartsWith(prefix, StringComparison.Ordinal))
            {
                best = prefix.Length;
                access = level;
            }
        }

        return access;
    }

    /// <summary>The access on sessions.</summary>
    public AclAccess SessionAccess => Management ? AclAccess.Write : Sessions;
}

/// <summary>The emulator's ACL system: tokens by SecretID, and the anonymous policy for requests without one.</summary>
public sealed class EmulatorAcl
{
    /// <summary>Tokens by SecretID.</summary>
    public Dictionary<string, AclPolicy> Tokens { get; } = new(StringComparer.Ordinal);

    /// <summary>The policy of requests without a token (default: deny everything).</summary>
    public AclPolicy Anonymous { get; set; } = AclPolicy.DenyAll;
}
