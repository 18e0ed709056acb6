namespace DistributedCron.Testing;

/// <summary>Waiting on conditions with deadlines (never a bare sleep as the thing a test relies on).</summary>
public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every <paramref name="poll"/> until it is true; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, TimeSpan? poll = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        var delay = poll ?? TimeSpan.FromMilliseconds(25);
        while (true)
        {
            if (await condition().ConfigureAwait(false))
            {
                return;
            }

            try
            {
                await Task.Delay(delay, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for: {what}");
            }
        }
    }

    /// <summary>Synchronous-condition overload of <see cref="UntilAsync(Func{Task{bool}}, TimeSpan, string, TimeSpan?)"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, TimeSpan? poll = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, poll);
}
