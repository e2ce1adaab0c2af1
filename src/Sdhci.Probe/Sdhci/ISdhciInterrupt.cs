namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The controller's interrupt line as the command engine sees it: wait for it to fire, and re-arm
/// it once the cause has been cleared in the controller.
/// </summary>
/// <remarks>
/// <para>
/// The engine's order is fixed: <see cref="Wait"/> returns true, the engine reads the interrupt
/// status (0x30), writes the bits back to clear them, and only then calls <see cref="Acknowledge"/>.
/// That is the rule of a level-triggered, AUTOMASKED VFIO interrupt: the kernel masks the line when
/// it fires; unmasking before the cause is cleared would fire it again at once.
/// </para>
/// <para>
/// When <see cref="Wait"/> times out the engine still reads the status once before giving up, so
/// a lost edge costs time, not the command.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// // VFIO: an eventfd per IRQ, unmask after the clear
/// sealed class VfioSdhciInterrupt(VfioInterrupt irq) : ISdhciInterrupt
/// {
///     public bool Wait(TimeSpan timeout) => irq.Wait(timeout) != 0;
///     public void Acknowledge() { if (irq.Info.IsAutomasked) irq.Unmask(); }
/// }
/// var host = new SdhciHost(registers, new VfioSdhciInterrupt(irq));   // or new PollingInterrupt()
/// </code>
/// </example>
public interface ISdhciInterrupt
{
    /// <summary>Blocks until the controller's interrupt fires or <paramref name="timeout"/> passes.</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <returns><see langword="true"/> when the interrupt fired; <see langword="false"/> on timeout.</returns>
    bool Wait(TimeSpan timeout);

    /// <summary>
    /// Re-arms the interrupt after the engine cleared the status bits that raised it (for VFIO: the
    /// unmask of an AUTOMASKED line). Called once for each <see cref="Wait"/> that returned true.
    /// </summary>
    void Acknowledge();
}
