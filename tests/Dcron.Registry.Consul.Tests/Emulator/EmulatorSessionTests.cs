using System.Net;
using DistributedCron.Registry.Consul.Tests.Infrastructure;
using DistributedCron.Testing.Consul;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace DistributedCron.Registry.Consul.Tests.Emulator;

/// <summary>The emulator's sessions (TTL on a fake clock), blocking queries and ACLs, against Consul's documented behaviour.</summary>
public sealed class EmulatorSessionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private ConsulEmulatorServer _emulator = null!;
    private RawConsul _c = null!;

    public async Task InitializeAsync()
    {
        _emulator = await ConsulEmulatorServer.StartAsync(new ConsulEmulatorOptions { TimeProvider = _clock, QueryJitter = false });
        _c = new RawConsul(_emulator.Address);
    }

    public async Task DisposeAsync()
    {
        _c.Dispose();
        await _emulator.DisposeAsync();
    }

    /// <summary>Waits until a blocking query is parked in the emulator (so advancing the fake clock reaches its wait).</summary>
    private Task BlockedAsync() => DistributedCron.Testing.Wait.UntilAsync(() => _emulator.State.BlockedQueries > 0, TimeSpan.FromSeconds(10), "a blocking query waits");

    [Fact]
    public async Task Session_create_validates_ttl_and_behavior_and_defaults_like_consul()
    {
        var low = await _c.PutAsync("/v1/session/create", """{"TTL":"5s"}""");
        Assert.Equal(HttpStatusCode.InternalServerError, low.Status);
        Assert.Equal("Invalid Session TTL '5000000000', must be between [10s=24h0m0s]", low.Body);
        Assert.Equal("Invalid Behavior setting 'explode'", (await _c.PutAsync("/v1/session/create", """{"Behavior":"explode"}""")).Body);
        Assert.Equal("Missing node registration", (await _c.PutAsync("/v1/session/create", """{"Node":"elsewhere"}""")).Body);

        var id = await _c.SessionAsync("");
        var info = (await _c.GetAsync("/v1/session/info/" + id)).Json[0];
        Assert.Equal("release", info.GetProperty("Behavior").GetString());
        Assert.Equal(15_000_000_000L, info.GetProperty("LockDelay").GetInt64()); // 15 s, in nanoseconds
        Assert.Equal(["serfHealth"], info.GetProperty("NodeChecks").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("[]", (await _c.GetAsync("/v1/session/info/00000000-0000-0000-0000-000000000000")).Body);

        var noChecks = await _c.SessionAsync("""{"Checks":[],"NodeChecks":[]}""");
        Assert.Empty((await _c.GetAsync("/v1/session/info/" + noChecks)).Json[0].GetProperty("NodeChecks").EnumerateArray());
        Assert.Equal("true", (await _c.PutAsync("/v1/session/destroy/" + noChecks)).Body);
        Assert.Equal("true", (await _c.PutAsync("/v1/session/destroy/" + noChecks)).Body); // idempotent
        var renew = await _c.PutAsync("/v1/session/renew/" + noChecks);
        Assert.Equal(HttpStatusCode.NotFound, renew.Status);
        Assert.Equal($"Session id '{noChecks}' not found", renew.Body);
    }

    [Fact]
    public async Task An_unrenewed_ttl_session_lives_its_ttl_times_two_then_deletes_or_releases_its_keys()
    {
        var del = await _c.SessionAsync("""{"TTL":"10s","Behavior":"delete","LockDelay":"0s","Checks":[]}""");
        var rel = await _c.SessionAsync("""{"TTL":"10s","Behavior":"release","LockDelay":"5s","Checks":[]}""");
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/n/del?acquire={del}", "d")).Body);
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/n/rel?acquire={rel}", "r")).Body);

        _clock.Advance(TimeSpan.FromSeconds(15)); // past the TTL: Consul only promises "not before the TTL"
        Assert.Equal(HttpStatusCode.OK, (await _c.GetAsync("/v1/kv/n/del")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _c.PutAsync("/v1/session/renew/" + rel)).Status); // renew resets the timer
        _clock.Advance(TimeSpan.FromSeconds(5.5)); // del: 20.5 s since create (> 2 × TTL); rel: 5.5 s since renew
        Assert.Equal(HttpStatusCode.NotFound, (await _c.GetAsync("/v1/kv/n/del")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _c.PutAsync("/v1/session/renew/" + del)).Status);
        Assert.Equal(rel, (await _c.EntryAsync("n/rel")).GetProperty("Session").GetString());

        _clock.Advance(TimeSpan.FromSeconds(15)); // rel: 20.5 s since its renewal
        var released = await _c.EntryAsync("n/rel");
        Assert.False(released.TryGetProperty("Session", out _));
        Assert.Equal("cg==", released.GetProperty("Value").GetString()); // release keeps the value

        // The lock-delay (5 s) of the invalidated session blocks a new acquire, not a plain write.
        var other = await _c.SessionAsync("""{"Checks":[]}""");
        Assert.Equal("false", (await _c.PutAsync($"/v1/kv/n/rel?acquire={other}", "o")).Body);
        Assert.Equal("true", (await _c.PutAsync("/v1/kv/n/rel", "plain")).Body);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/n/rel?acquire={other}", "o")).Body);
    }

    [Fact]
    public async Task A_blocking_query_returns_on_a_change_with_a_higher_index_or_after_its_wait_unchanged()
    {
        await _c.PutAsync("/v1/kv/w/a", "1");
        var first = await _c.GetAsync("/v1/kv/w/?recurse");
        var index = first.Index!.Value;

        var blocked = _c.GetAsync($"/v1/kv/w/?recurse&index={index}&wait=1m");
        await BlockedAsync();
        await _c.PutAsync("/v1/kv/elsewhere", "x"); // another prefix: the query re-checks and keeps waiting
        await _c.PutAsync("/v1/kv/w/b", "2");
        var changed = await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(changed.Index > index);
        Assert.Equal(2, changed.Json.GetArrayLength()); // answered by the write to w/, not the one elsewhere

        var idle = _c.GetAsync($"/v1/kv/w/?recurse&index={changed.Index}&wait=30s");
        await BlockedAsync();
        Assert.False(idle.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(30));
        var timedOut = await idle.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(changed.Index, timedOut.Index); // the wait ended: same index, same data

        // A missing key blocks on the whole store's index: any KV write answers it.
        var missing = await _c.GetAsync("/v1/kv/w/none");
        var onMissing = _c.GetAsync($"/v1/kv/w/none?index={missing.Index}&wait=1m");
        await BlockedAsync();
        await _c.PutAsync("/v1/kv/unrelated", "y");
        var woke = await onMissing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.NotFound, woke.Status);
        Assert.True(woke.Index > missing.Index);
    }

    [Fact]
    public async Task After_a_tombstone_reap_a_blocking_query_answers_at_its_wait_with_a_lower_index()
    {
        await _c.PutAsync("/v1/kv/r/a", "1");
        await _c.PutAsync("/v1/kv/r/b", "2");
        await _c.DeleteAsync("/v1/kv/r/b");
        var index = (await _c.GetAsync("/v1/kv/r/?recurse")).Index!.Value;
        var blocked = _c.GetAsync($"/v1/kv/r/?recurse&index={index}&wait=10s");
        await BlockedAsync();
        _emulator.State.ReapTombstones();
        _clock.Advance(TimeSpan.FromSeconds(10));
        var answer = await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(answer.Index < index, $"index went backwards: {index} → {answer.Index}"); // the client must reset
    }

    [Fact]
    public async Task Acl_tokens_unknown_is_ACL_not_found_missing_permission_is_denied_lists_are_filtered_txn_denial_is_409()
    {
        await using var secured = await ConsulEmulatorServer.StartAsync(new ConsulEmulatorOptions
        {
            Acl = new EmulatorAcl
            {
                Tokens =
                {
                    ["admin"] = new AclPolicy { Management = true },
                    ["reader"] = new AclPolicy { KeyPrefixes = new Dictionary<string, AclAccess> { ["app/"] = AclAccess.Read, ["app/secret/"] = AclAccess.Deny } },
                },
            },
        });
        using var c = new RawConsul(secured.Address);
        Assert.Equal("true", (await c.PutAsync("/v1/kv/app/public", "p", "admin")).Body);
        await c.PutAsync("/v1/kv/app/secret/s", "s", "admin");

        var unknown = await c.GetAsync("/v1/kv/app/public", "nobody-knows-me");
        Assert.Equal(HttpStatusCode.Forbidden, unknown.Status);
        Assert.Equal("ACL not found", unknown.Body);
        var anonymous = await c.GetAsync("/v1/kv/app/public");
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.Status);
        Assert.StartsWith("Permission denied: anonymous token lacks permission 'key:read'", anonymous.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/v1/kv/app/public", "reader")).Status);
        var write = await c.PutAsync("/v1/kv/app/public", "x", "reader");
        Assert.Equal(HttpStatusCode.Forbidden, write.Status);
        Assert.Contains("lacks permission 'key:write' on \"app/public\"", write.Body, StringComparison.Ordinal);
        Assert.Single((await c.GetAsync("/v1/kv/app/?recurse", "reader")).Json.EnumerateArray()); // the secret is filtered out
        Assert.Equal(HttpStatusCode.Forbidden, (await c.PutAsync("/v1/session/create", "", "reader")).Status);

        var txn = await c.PutAsync("/v1/txn", """[{"KV":{"Verb":"set","Key":"app/x","Value":"eA=="}}]""", "reader");
        Assert.Equal(HttpStatusCode.Conflict, txn.Status);
        Assert.StartsWith("Permission denied", txn.Json.GetProperty("Errors")[0].GetProperty("What").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await c.PutAsync("/v1/txn", "[]", "nobody-knows-me")).Status);
    }
}
