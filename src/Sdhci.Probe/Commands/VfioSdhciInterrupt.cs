using Sdhci.Probe.Sdhci;
using Vfio.Platform.Interrupts;

namespace Sdhci.Probe.Commands;

/// <summary>The VFIO interrupt as the engine's interrupt: wait on the eventfd; after the engine
/// cleared the status, unmask the level-triggered line. Used by the card commands and <c>irq --through-driver</c>.</summary>
internal sealed class VfioSdhciInterrupt(VfioInterrupt irq) : ISdhciInterrupt
{
    public bool Wait(TimeSpan timeout) => irq.Wait(timeout) != 0;

    public void Acknowledge()
    {
        if (irq.Info.IsAutomasked)
        {
            irq.Unmask();
        }
    }
}
