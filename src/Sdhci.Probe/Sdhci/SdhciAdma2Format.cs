namespace Sdhci.Probe.Sdhci;

/// <summary>The ADMA2 descriptor format a controller gets (SD Host Controller 4.10, 1.13.4, Figures 1-13 and 1-14).</summary>
public enum SdhciAdma2Format
{
    /// <summary>32-bit addresses, 64-bit (8-byte) descriptors; Host Control 1 DMA Select 0b10. Data and table below 4 GiB.</summary>
    Address32,

    /// <summary>64-bit addresses, 96-bit (12-byte) descriptors; DMA Select 0b11 (version 3 mode, Capabilities bit 28).</summary>
    Address64,

    /// <summary>64-bit addresses, 128-bit (16-byte) descriptors; DMA Select 0b10 with Host Control 2 bits 12 and 13 (version 4 mode, Capabilities bit 27).</summary>
    Address64V4,
}
