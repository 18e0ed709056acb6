namespace DistributedCron.Registry.ZooKeeper;

/// <summary>ZooKeeper permission bits of an ACL entry.</summary>
[Flags]
public enum ZooKeeperPermissions
{
    /// <summary>No permission.</summary>
    None = 0,

    /// <summary>getData, getChildren.</summary>
    Read = 1,

    /// <summary>setData.</summary>
    Write = 2,

    /// <summary>Create children.</summary>
    Create = 4,

    /// <summary>Delete children.</summary>
    Delete = 8,

    /// <summary>setACL.</summary>
    Admin = 16,

    /// <summary>Every permission.</summary>
    All = Read | Write | Create | Delete | Admin,
}

/// <summary>One entry of the ACL the registry sets on the znodes it creates.</summary>
/// <param name="Permissions">What the identity may do.</param>
/// <param name="Scheme">The scheme: <c>world</c>, <c>digest</c>, <c>ip</c> or <c>auth</c>.</param>
/// <param name="Id">The id within the scheme (<c>anyone</c>; <c>user:base64(sha1(user:password))</c>; an address).</param>
public sealed record ZooKeeperAclEntry(ZooKeeperPermissions Permissions, string Scheme, string Id)
{
    /// <summary>Everyone (<c>world:anyone</c>) with <paramref name="permissions"/>.</summary>
    public static ZooKeeperAclEntry World(ZooKeeperPermissions permissions = ZooKeeperPermissions.All) => new(permissions, "world", "anyone");

    /// <summary>The digest identity of <paramref name="user"/> with <paramref name="password"/> (the id is computed here, the password is not stored).</summary>
    public static ZooKeeperAclEntry Digest(string user, string password, ZooKeeperPermissions permissions = ZooKeeperPermissions.All) =>
        new(permissions, "digest", Client.ZkAcl.DigestId(user, password));

    /// <summary>A client address (<c>ip:10.0.0.0/8</c>, <c>ip:127.0.0.1</c>).</summary>
    public static ZooKeeperAclEntry Ip(string addressOrCidr, ZooKeeperPermissions permissions = ZooKeeperPermissions.All) =>
        new(permissions, "ip", addressOrCidr);

    /// <inheritdoc />
    public override string ToString() => $"{Scheme}:{Id}={Permissions}";
}
