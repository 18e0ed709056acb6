using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.Redis.Tests;

// The whole conformance suite against a real redis-server (one per test run, see RedisTarget).

public sealed class RedisMembershipTests(SharedTarget<RedisTarget> t) : MembershipConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisTaskTests(SharedTarget<RedisTarget> t) : TaskConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisFireClaimTests(SharedTarget<RedisTarget> t) : FireClaimConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisWatchTests(SharedTarget<RedisTarget> t) : WatchConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisIsolationTests(SharedTarget<RedisTarget> t) : IsolationConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisFailureTests(SharedTarget<RedisTarget> t) : FailureConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisUnresponsiveServerTests(SharedTarget<RedisTarget> t) : UnresponsiveServerConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisAuthenticationTests(SharedTarget<RedisTarget> t) : AuthenticationConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

public sealed class RedisServerRestartTests(SharedTarget<RedisTarget> t) : ServerRestartConformanceTests(t.Target), IClassFixture<SharedTarget<RedisTarget>>;

