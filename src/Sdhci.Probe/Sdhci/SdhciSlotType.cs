namespace Sdhci.Probe.Sdhci;

/// <summary>Slot Type of the capabilities register (bits 31:30).</summary>
public enum SdhciSlotType
{
    /// <summary>A removable card slot.</summary>
    Removable = 0,

    /// <summary>An embedded device (eMMC, SDIO chip) wired to the controller.</summary>
    Embedded = 1,

    /// <summary>A shared bus slot (see the Shared Bus Control register).</summary>
    SharedBus = 2,

    /// <summary>Reserved value.</summary>
    Reserved = 3,
}
