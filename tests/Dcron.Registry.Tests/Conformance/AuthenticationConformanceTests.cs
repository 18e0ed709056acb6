using Xunit;

namespace DistributedCron.Testing.Conformance;

/// <summary>
/// conformance.md case 30 (servers with authentication; subclass it when
/// <see cref="RegistryTestTarget.CreateWithWrongCredentialsAsync"/> returns a client).
/// </summary>
public abstract class AuthenticationConformanceTests(RegistryTestTarget target) : ConformanceTestBase(target)
{
    [Fact]
    public async Task Case30_Wrong_credentials_fail_with_an_authentication_error_not_a_timeout()
    {
        var r = Own(await Target.CreateWithWrongCredentialsAsync(NewNamespace(), Ct)
            ?? throw new InvalidOperationException($"{Target.GetType().Name} has no authentication configured; do not subclass {nameof(AuthenticationConformanceTests)}."));
        foreach (var (what, call) in FailureConformanceTests.EveryCallForSubclasses())
        {
            var ex = await FailsWithinAsync<RegistryAuthenticationException>(() => call(r, Ct), Target.EventTimeout, what);
            Assert.False(string.IsNullOrWhiteSpace(ex.Message), what);
        }
    }
}
