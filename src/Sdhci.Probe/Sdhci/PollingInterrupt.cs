namespace Sdhci.Probe.Sdhci;

/// <summary>
/// An <see cref="ISdhciInterrupt"/> that never waits: <see cref="Wait"/> returns at once as if the
/// interrupt had fired, so the engine polls the interrupt status register. For <c>--poll</c>, and
/// for controllers whose interrupt cannot be wired (no eventfd, no IRQ in the device tree).
/// </summary>
/// <example>
/// <code>
/// var host = new SdhciHost(registers, new PollingInterrupt());
/// </code>
/// </example>
public sealed class PollingInterrupt : ISdhciInterrupt
{
    /// <summary>Yields the processor once and reports the interrupt as fired, so the caller reads the status.</summary>
    /// <param name="timeout">Ignored: a poll never blocks.</param>
    /// <returns>Always <see langword="true"/>.</returns>
    public bool Wait(TimeSpan timeout)
    {
        Thread.Yield();
        return true;
    }

    /// <summary>Nothing to re-arm.</summary>
    public void Acknowledge()
    {
    }
}
