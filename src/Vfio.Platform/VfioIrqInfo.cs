using Vfio.Native;

namespace Vfio.Platform;

/// <summary>What <c>VFIO_DEVICE_GET_IRQ_INFO</c> says about one interrupt index.</summary>
/// <param name="Index">The IRQ index (platform: the device's interrupt; PCI: INTx, MSI, MSI-X, ERR, REQ).</param>
/// <param name="Flags">Raw <c>VFIO_IRQ_INFO_*</c>.</param>
/// <param name="Count">How many vectors the index has.</param>
public sealed record VfioIrqInfo(int Index, uint Flags, uint Count)
{
    /// <summary>Can be signalled through an eventfd.</summary>
    public bool SupportsEventFd => (Flags & VfioUapi.VFIO_IRQ_INFO_EVENTFD) != 0;

    /// <summary>Can be masked and unmasked.</summary>
    public bool IsMaskable => (Flags & VfioUapi.VFIO_IRQ_INFO_MASKABLE) != 0;

    /// <summary>The kernel masks it when it fires (level-triggered): the handler clears the cause in
    /// the device, then unmasks.</summary>
    public bool IsAutomasked => (Flags & VfioUapi.VFIO_IRQ_INFO_AUTOMASKED) != 0;
}
