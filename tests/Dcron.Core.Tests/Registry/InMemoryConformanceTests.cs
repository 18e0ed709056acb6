using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Tests.Registry;

// The whole registry conformance suite against InMemoryRegistry (a fake clock per test).

public sealed class InMemoryMembershipTests(SharedTarget<InMemoryTarget> t)
    : MembershipConformanceTests(t.Target), IClassFixture<SharedTarget<InMemoryTarget>>;

public sealed class InMemoryTaskTests(SharedTarget<InMemoryTarget> t)
    : TaskConformanceTests(t.Target), IClassFixture<SharedTarget<InMemoryTarget>>;

public sealed class InMemoryFireClaimTests(SharedTarget<InMemoryTarget> t)
    : FireClaimConformanceTests(t.Target), IClassFixture<SharedTarget<InMemoryTarget>>;

public sealed class InMemoryWatchTests(SharedTarget<InMemoryTarget> t)
    : WatchConformanceTests(t.Target), IClassFixture<SharedTarget<InMemoryTarget>>;

public sealed class InMemoryIsolationTests(SharedTarget<InMemoryTarget> t)
    : IsolationConformanceTests(t.Target), IClassFixture<SharedTarget<InMemoryTarget>>;

public sealed class InMemoryFailureTests(SharedTarget<InMemoryTarget> t)
    : FailureConformanceTests(t.Target), IClassFixture<SharedTarget<InMemoryTarget>>;
