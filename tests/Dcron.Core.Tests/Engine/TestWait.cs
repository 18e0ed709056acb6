using DistributedCron.Testing;

namespace DistributedCron.Tests.Engine;

/// <summary>Real-time waits with a deadline (never a bare sleep the test relies on).</summary>
internal static class TestWait
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    public static Task UntilAsync(Func<bool> condition, string what) => Wait.UntilAsync(condition, Deadline, what, TimeSpan.FromMilliseconds(5));

    public static Task UntilAsync(Func<Task<bool>> condition, string what) => Wait.UntilAsync(condition, Deadline, what, TimeSpan.FromMilliseconds(5));
}
