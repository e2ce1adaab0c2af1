namespace Sdhci.Probe.Sdhci;

/// <summary>What kind of SD memory card answered.</summary>
public enum SdCardType
{
    /// <summary>Standard capacity, physical layer 1.x: no answer to CMD8. Byte addressing.</summary>
    StandardCapacityV1,

    /// <summary>Standard capacity (SDSC, up to 2 GiB), physical layer 2.00 or later. Byte addressing.</summary>
    StandardCapacity,

    /// <summary>High or extended capacity (SDHC, SDXC: CCS set in the OCR). Block addressing.</summary>
    HighCapacity,
}
