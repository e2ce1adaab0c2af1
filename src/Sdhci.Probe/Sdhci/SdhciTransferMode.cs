namespace Sdhci.Probe.Sdhci;

/// <summary>How data moves between the controller and memory.</summary>
public enum SdhciTransferMode
{
    /// <summary>Programmed I/O: the CPU moves every 32-bit word through the Buffer Data Port (0x20).</summary>
    Pio,

    /// <summary>Single-operation DMA: one address (0x00), the controller stops at every buffer boundary for the next.</summary>
    Sdma,

    /// <summary>ADMA2: a table of (attribute, length, address) descriptors in DMA memory (0x58), 32- or 64-bit as the host allows (<see cref="SdhciHost{TBus}.Adma2Format"/>).</summary>
    Adma2,
}
