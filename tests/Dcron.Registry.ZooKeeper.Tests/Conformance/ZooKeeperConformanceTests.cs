using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.ZooKeeper.Tests.Conformance;

// The whole conformance suite against one standalone ZooKeeper 3.8 (see ZooKeeperTarget).

public sealed class ZooKeeperMembershipTests(SharedTarget<ZooKeeperTarget> t)
    : MembershipConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperTaskTests(SharedTarget<ZooKeeperTarget> t)
    : TaskConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperFireClaimTests(SharedTarget<ZooKeeperTarget> t)
    : FireClaimConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperIsolationTests(SharedTarget<ZooKeeperTarget> t)
    : IsolationConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperWatchTests(SharedTarget<ZooKeeperTarget> t)
    : WatchConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperFailureTests(SharedTarget<ZooKeeperTarget> t)
    : FailureConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperUnresponsiveServerTests(SharedTarget<ZooKeeperTarget> t)
    : UnresponsiveServerConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperAuthenticationTests(SharedTarget<ZooKeeperTarget> t)
    : AuthenticationConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;

public sealed class ZooKeeperServerRestartTests(SharedTarget<ZooKeeperTarget> t)
    : ServerRestartConformanceTests(t.Target), IClassFixture<SharedTarget<ZooKeeperTarget>>;
