using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.Etcd.Tests;

// The whole registry conformance suite against one real etcd (with auth enabled), one line per concern.

public sealed class EtcdMembershipTests(SharedTarget<EtcdTarget> t) : MembershipConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdTaskTests(SharedTarget<EtcdTarget> t) : TaskConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdFireClaimTests(SharedTarget<EtcdTarget> t) : FireClaimConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdWatchTests(SharedTarget<EtcdTarget> t) : WatchConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdIsolationTests(SharedTarget<EtcdTarget> t) : IsolationConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdFailureTests(SharedTarget<EtcdTarget> t) : FailureConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdUnresponsiveServerTests(SharedTarget<EtcdTarget> t) : UnresponsiveServerConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdAuthenticationTests(SharedTarget<EtcdTarget> t) : AuthenticationConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;

public sealed class EtcdServerRestartTests(SharedTarget<EtcdTarget> t) : ServerRestartConformanceTests(t.Target), IClassFixture<SharedTarget<EtcdTarget>>;
