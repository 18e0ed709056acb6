using DistributedCron.Registry.Consul.Tests.Infrastructure;
using DistributedCron.Testing.Conformance;
using Xunit;

namespace DistributedCron.Registry.Consul.Tests;

// The whole registry conformance suite, one line per concern: against the Consul emulator (always), and the same
// classes against a real agent (CONSUL_HTTP_ADDR; reported as skipped, with the reason, when it is not set).

public sealed class EmulatorMembershipTests(SharedTarget<EmulatorTarget> t) : MembershipConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorTaskTests(SharedTarget<EmulatorTarget> t) : TaskConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorFireClaimTests(SharedTarget<EmulatorTarget> t) : FireClaimConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorWatchTests(SharedTarget<EmulatorTarget> t) : WatchConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorIsolationTests(SharedTarget<EmulatorTarget> t) : IsolationConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorFailureTests(SharedTarget<EmulatorTarget> t) : FailureConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorUnresponsiveServerTests(SharedTarget<EmulatorTarget> t) : UnresponsiveServerConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorAuthenticationTests(SharedTarget<EmulatorTarget> t) : AuthenticationConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

public sealed class EmulatorServerRestartTests(SharedTarget<EmulatorTarget> t) : ServerRestartConformanceTests(t.Target), IClassFixture<SharedTarget<EmulatorTarget>>;

[RequiresConsulAgent]
public sealed class AgentMembershipTests(SharedTarget<AgentTarget> t) : MembershipConformanceTests(t.Target), IClassFixture<SharedTarget<AgentTarget>>;

[RequiresConsulAgent]
public sealed class AgentTaskTests(SharedTarget<AgentTarget> t) : TaskConformanceTests(t.Target), IClassFixture<SharedTarget<AgentTarget>>;

[RequiresConsulAgent]
public sealed class AgentFireClaimTests(SharedTarget<AgentTarget> t) : FireClaimConformanceTests(t.Target), IClassFixture<SharedTarget<AgentTarget>>;

[RequiresConsulAgent]
public sealed class AgentWatchTests(SharedTarget<AgentTarget> t) : WatchConformanceTests(t.Target), IClassFixture<SharedTarget<AgentTarget>>;

[RequiresConsulAgent]
public sealed class AgentIsolationTests(SharedTarget<AgentTarget> t) : IsolationConformanceTests(t.Target), IClassFixture<SharedTarget<AgentTarget>>;

[RequiresConsulAgent]
public sealed class AgentFailureTests(SharedTarget<AgentTarget> t) : FailureConformanceTests(t.Target), IClassFixture<SharedTarget<AgentTarget>>;

[RequiresConsulAgent(NeedsAcl = true)]
public sealed class AgentAuthenticationTests(SharedTarget<AgentTarget> t) : AuthenticationConformanceTests(t.Target), IClassFixture<SharedTarget<AgentTarget>>;
