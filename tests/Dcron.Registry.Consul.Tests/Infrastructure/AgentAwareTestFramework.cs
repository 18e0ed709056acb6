using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("DistributedCron.Registry.Consul.Tests.Infrastructure.AgentAwareTestFramework", "Dcron.Registry.Consul.Tests")]

namespace DistributedCron.Registry.Consul.Tests.Infrastructure;

/// <summary>
/// Marks a test class that runs against a real Consul agent: without <c>CONSUL_HTTP_ADDR</c> (and, with
/// <see cref="NeedsAcl"/>, <c>CONSUL_HTTP_TOKEN</c>) every test of the class is reported as skipped with the reason,
/// so the test output shows that the real-agent suite did not run and how to run it.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresConsulAgentAttribute : Attribute
{
    /// <summary>The class also needs ACLs enabled on the agent (CONSUL_HTTP_TOKEN set).</summary>
    public bool NeedsAcl { get; set; }

    /// <summary>Why the class cannot run here, or null when it can.</summary>
    public static string? SkipReason(bool needsAcl)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR")))
        {
            return "No real Consul agent: CONSUL_HTTP_ADDR is not set (set it, e.g. CONSUL_HTTP_ADDR=http://127.0.0.1:8500, to run this suite against a real agent; the emulator suite ran instead).";
        }

        if (needsAcl && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("CONSUL_HTTP_TOKEN")))
        {
            return "The agent's ACL case needs ACLs enabled: set CONSUL_HTTP_TOKEN to a token with the registry's policy.";
        }

        return null;
    }
}

/// <summary>xunit's framework, with discovery that turns the tests of <see cref="RequiresConsulAgentAttribute"/> classes into skipped tests when no agent is configured.</summary>
public sealed class AgentAwareTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    /// <inheritdoc />
    protected override ITestFrameworkDiscoverer CreateDiscoverer(IAssemblyInfo assemblyInfo) =>
        new Discoverer(assemblyInfo, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Discoverer(IAssemblyInfo assembly, ISourceInformationProvider source, IMessageSink sink)
        : XunitTestFrameworkDiscoverer(assembly, source, sink)
    {
        protected override bool FindTestsForMethod(ITestMethod testMethod, bool includeSourceInformation, IMessageBus messageBus, ITestFrameworkDiscoveryOptions discoveryOptions)
        {
            var marker = testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresConsulAgentAttribute)).FirstOrDefault();
            var reason = marker is null ? null : RequiresConsulAgentAttribute.SkipReason(marker.GetNamedArgument<bool>(nameof(RequiresConsulAgentAttribute.NeedsAcl)));
            if (reason is null)
            {
                return base.FindTestsForMethod(testMethod, includeSourceInformation, messageBus, discoveryOptions);
            }

            if (!testMethod.Method.GetCustomAttributes(typeof(FactAttribute)).Any())
            {
                return true;
            }

            var skipped = new SkippedTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason);
            return ReportDiscoveredTestCase(skipped, includeSourceInformation, messageBus);
        }
    }
}

/// <summary>A test case reported as skipped with a reason decided at discovery.</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    private string _reason = "";

    /// <summary>For the deserializer.</summary>
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase()
    {
    }

    /// <summary>Creates the case.</summary>
    public SkippedTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method, string reason)
        : base(sink, display, options, method) => _reason = reason;

    /// <inheritdoc />
    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("SkipReasonText", _reason);
    }

    /// <inheritdoc />
    public override void Deserialize(IXunitSerializationInfo data)
    {
        _reason = data.GetValue<string>("SkipReasonText");
        base.Deserialize(data);
    }

    /// <inheritdoc />
    protected override void Initialize()
    {
        base.Initialize();
        SkipReason = _reason;
    }
}
