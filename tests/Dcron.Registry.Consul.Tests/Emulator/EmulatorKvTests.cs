using System.Net;
using DistributedCron.Registry.Consul.Tests.Infrastructure;
using DistributedCron.Testing.Consul;
using Xunit;

namespace DistributedCron.Registry.Consul.Tests.Emulator;

/// <summary>The emulator's KV and txn semantics, each checked against what Consul's documentation (and source) says.</summary>
public sealed class EmulatorKvTests : IAsyncLifetime
{
    private ConsulEmulatorServer _emulator = null!;
    private RawConsul _c = null!;

    public async Task InitializeAsync()
    {
        _emulator = await ConsulEmulatorServer.StartAsync();
        _c = new RawConsul(_emulator.Address);
    }

    public async Task DisposeAsync()
    {
        _c.Dispose();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task Indexes_are_global_a_missing_key_carries_the_store_index_and_an_identical_rewrite_changes_nothing()
    {
        Assert.Equal("true", (await _c.PutAsync("/v1/kv/a/one", "1")).Body);
        Assert.Equal("true", (await _c.PutAsync("/v1/kv/b/two", "2")).Body);
        var one = await _c.EntryAsync("a/one");
        var two = await _c.EntryAsync("b/two");
        Assert.True(two.GetProperty("ModifyIndex").GetUInt64() > one.GetProperty("ModifyIndex").GetUInt64(), "one index across prefixes");
        Assert.Equal(one.GetProperty("CreateIndex").GetUInt64(), one.GetProperty("ModifyIndex").GetUInt64());
        Assert.Equal("MQ==", one.GetProperty("Value").GetString()); // base64
        Assert.False(one.TryGetProperty("Session", out _), "Session is left out when empty");

        var missing = await _c.GetAsync("/v1/kv/a/none");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("", missing.Body);
        Assert.Equal(two.GetProperty("ModifyIndex").GetUInt64(), missing.Index); // the store's latest index

        var before = _emulator.State.Index;
        Assert.Equal("true", (await _c.PutAsync("/v1/kv/a/one", "1")).Body);
        Assert.Equal(before, _emulator.State.Index); // identical re-PUT: no write (Consul 1.6+)
        Assert.Equal((await _c.GetAsync("/v1/kv/a/one")).Index, one.GetProperty("ModifyIndex").GetUInt64());

        Assert.Equal("true", (await _c.PutAsync("/v1/kv/a/empty", "")).Body);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await _c.EntryAsync("a/empty")).GetProperty("Value").ValueKind);
        Assert.Equal("1", (await _c.GetAsync("/v1/kv/a/one?raw")).Body);
    }

    [Fact]
    public async Task Cas_zero_creates_only_a_stale_index_fails_and_changes_nothing()
    {
        Assert.Equal("true", (await _c.PutAsync("/v1/kv/k?cas=0", "v1")).Body);
        Assert.Equal("false", (await _c.PutAsync("/v1/kv/k?cas=0", "v2")).Body);
        var index = (await _c.EntryAsync("k")).GetProperty("ModifyIndex").GetUInt64();
        Assert.Equal("false", (await _c.PutAsync($"/v1/kv/k?cas={index - 1}", "stale")).Body);
        Assert.Equal("false", (await _c.PutAsync("/v1/kv/absent?cas=5", "x")).Body);
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/k?cas={index}", "v3")).Body);
        Assert.Equal("v3", (await _c.GetAsync("/v1/kv/k?raw")).Body);

        var now = (await _c.EntryAsync("k")).GetProperty("ModifyIndex").GetUInt64();
        Assert.Equal("false", (await _c.DeleteAsync($"/v1/kv/k?cas={now - 1}")).Body);
        Assert.Equal("true", (await _c.DeleteAsync($"/v1/kv/k?cas={now}")).Body);
        Assert.Equal("true", (await _c.DeleteAsync("/v1/kv/k?cas=1")).Body); // already gone: true (source)
        Assert.Equal(HttpStatusCode.BadRequest, (await _c.PutAsync("/v1/kv/k?cas=0&acquire=x", "v")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _c.DeleteAsync("/v1/kv/k?cas=0&recurse")).Status);
    }

    [Fact]
    public async Task Acquire_and_release_follow_the_lock_rules()
    {
        var s1 = await _c.SessionAsync("""{"Checks":[]}""");
        var s2 = await _c.SessionAsync("""{"Checks":[]}""");
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/lock?acquire={s1}", "a")).Body);
        var held = await _c.EntryAsync("lock");
        Assert.Equal(1UL, held.GetProperty("LockIndex").GetUInt64());
        Assert.Equal(s1, held.GetProperty("Session").GetString());

        Assert.Equal("false", (await _c.PutAsync($"/v1/kv/lock?acquire={s2}", "b")).Body); // held by another
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/lock?acquire={s1}", "a2")).Body); // holder re-acquires
        Assert.Equal(1UL, (await _c.EntryAsync("lock")).GetProperty("LockIndex").GetUInt64());
        Assert.Equal("false", (await _c.PutAsync($"/v1/kv/lock?release={s2}", "")).Body); // not the holder
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/lock?release={s1}", "released")).Body);
        var free = await _c.EntryAsync("lock");
        Assert.False(free.TryGetProperty("Session", out _));
        Assert.Equal(1UL, free.GetProperty("LockIndex").GetUInt64()); // kept
        Assert.Equal("released", (await _c.GetAsync("/v1/kv/lock?raw")).Body); // release overwrites the value
        Assert.Equal("true", (await _c.PutAsync($"/v1/kv/lock?acquire={s2}", "b")).Body);
        Assert.Equal(2UL, (await _c.EntryAsync("lock")).GetProperty("LockIndex").GetUInt64());

        var bad = await _c.PutAsync("/v1/kv/other?acquire=00000000-0000-0000-0000-000000000000", "x");
        Assert.Equal(HttpStatusCode.InternalServerError, bad.Status);
        Assert.Equal("invalid session \"00000000-0000-0000-0000-000000000000\"", bad.Body);
        Assert.Equal("missing session", (await _c.PutAsync("/v1/kv/other?acquire=", "x")).Body);

        // Locks are advisory: a plain PUT overwrites a held key and keeps its session.
        Assert.Equal("true", (await _c.PutAsync("/v1/kv/lock", "plain")).Body);
        Assert.Equal(s2, (await _c.EntryAsync("lock")).GetProperty("Session").GetString());
    }

    [Fact]
    public async Task Recurse_keys_and_separator_use_a_plain_string_prefix_and_deletes_move_the_prefix_index_through_tombstones()
    {
        foreach (var k in new[] { "web/a", "web/sub/b", "web1/c" })
        {
            await _c.PutAsync("/v1/kv/" + k, "x");
        }

        Assert.Equal(3, (await _c.GetAsync("/v1/kv/web?recurse")).Json.GetArrayLength()); // "web" matches "web1/" too
        Assert.Equal(2, (await _c.GetAsync("/v1/kv/web/?recurse")).Json.GetArrayLength());
        Assert.Equal(["web/a", "web/sub/"], (await _c.GetAsync("/v1/kv/web/?keys&separator=/")).Json.EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await _c.GetAsync("/v1/kv/nothing/?recurse")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _c.GetAsync("/v1/kv/nothing/?keys")).Status);

        var before = (await _c.GetAsync("/v1/kv/web/?recurse")).Index!.Value;
        Assert.Equal("true", (await _c.DeleteAsync("/v1/kv/web/a")).Body);
        var after = (await _c.GetAsync("/v1/kv/web/?recurse")).Index!.Value;
        Assert.True(after > before, $"a delete raises the prefix index via its tombstone ({before} → {after})");

        // Reaping the tombstones lets the prefix index go backwards: the case the client's reset rule is for.
        _emulator.State.ReapTombstones();
        Assert.True((await _c.GetAsync("/v1/kv/web/?recurse")).Index < after);
        Assert.Equal("true", (await _c.DeleteAsync("/v1/kv/web/?recurse")).Body);
        Assert.Equal(HttpStatusCode.NotFound, (await _c.GetAsync("/v1/kv/web/?recurse")).Status);
        Assert.Single((await _c.GetAsync("/v1/kv/web1/?recurse")).Json.EnumerateArray());
    }

    [Fact]
    public async Task A_value_over_512_KiB_is_refused_with_413()
    {
        var big = await _c.PutAsync("/v1/kv/big", new string('x', 512 * 1024 + 1));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.Status);
        Assert.Contains("too large", big.Body, StringComparison.Ordinal);
        Assert.Equal("true", (await _c.PutAsync("/v1/kv/big", new string('x', 512 * 1024))).Body);
    }

    [Fact]
    public async Task A_transaction_applies_all_at_one_index_or_nothing_and_lists_every_failure()
    {
        await _c.PutAsync("/v1/kv/t/existing", "e");
        var ok = await _c.PutAsync("/v1/txn", """
            [{"KV":{"Verb":"check-not-exists","Key":"t/new"}},{"KV":{"Verb":"cas","Key":"t/new","Value":"bg==","Index":0}},
             {"KV":{"Verb":"set","Key":"t/other","Value":"bw=="}},{"KV":{"Verb":"get","Key":"t/existing"}}]
            """);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        var results = ok.Json.GetProperty("Results");
        Assert.Equal(3, results.GetArrayLength()); // check-not-exists yields no result
        Assert.Equal(results[0].GetProperty("KV").GetProperty("ModifyIndex").GetUInt64(), results[1].GetProperty("KV").GetProperty("ModifyIndex").GetUInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, results[0].GetProperty("KV").GetProperty("Value").ValueKind); // blanked for writes
        Assert.Equal("ZQ==", results[2].GetProperty("KV").GetProperty("Value").GetString()); // kept for get

        var before = _emulator.State.Index;
        var rolled = await _c.PutAsync("/v1/txn", """
            [{"KV":{"Verb":"set","Key":"t/would","Value":"eA=="}},{"KV":{"Verb":"check-not-exists","Key":"t/existing"}},
             {"KV":{"Verb":"cas","Key":"t/new","Value":"eA==","Index":0}}]
            """);
        Assert.Equal(HttpStatusCode.Conflict, rolled.Status);
        var errors = rolled.Json.GetProperty("Errors").EnumerateArray().ToArray();
        Assert.Equal([1, 2], errors.Select(e => e.GetProperty("OpIndex").GetInt32()));
        Assert.Equal("key \"t/existing\" exists", errors[0].GetProperty("What").GetString());
        Assert.Equal("failed to set key \"t/new\", index is stale", errors[1].GetProperty("What").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _c.GetAsync("/v1/kv/t/would")).Status); // rolled back
        Assert.Equal(before, _emulator.State.Index);

        var tooMany = "[" + string.Join(",", Enumerable.Range(0, 129).Select(i => $"{{\"KV\":{{\"Verb\":\"get\",\"Key\":\"t/{i}\"}}}}")) + "]";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _c.PutAsync("/v1/txn", tooMany)).Status);
        var unknown = await _c.PutAsync("/v1/txn", """[{"KV":{"Verb":"get","Key":"t/x","Bogus":1}}]""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.StartsWith("Failed to parse body", unknown.Body, StringComparison.Ordinal);
        var verb = await _c.PutAsync("/v1/txn", """[{"KV":{"Verb":"frobnicate","Key":"t/x"}}]""");
        Assert.Equal("unknown KV verb \"frobnicate\"", verb.Json.GetProperty("Errors")[0].GetProperty("What").GetString());
    }

    [Fact]
    public async Task Shared_rules_dc_stale_with_consistent_bad_wait_and_read_headers()
    {
        Assert.Equal("No path to datacenter", (await _c.GetAsync("/v1/kv/x?dc=elsewhere")).Body);
        Assert.Equal(HttpStatusCode.NotFound, (await _c.GetAsync("/v1/kv/x?dc=dc1")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _c.GetAsync("/v1/kv/x?stale&consistent")).Status);
        Assert.Equal("Invalid wait time", (await _c.GetAsync("/v1/kv/x?index=1&wait=soon")).Body);
        Assert.Equal("Invalid index", (await _c.GetAsync("/v1/kv/x?index=-1")).Body);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await _c.SendAsync(HttpMethod.Post, "/v1/kv/x")).Status);
        Assert.True((await _c.GetAsync("/v1/kv/x")).Index >= 1, "X-Consul-Index is never 0");
    }
}
