namespace Sdhci.Probe.Sdhci;

/// <summary>The specification version a controller implements (Host Controller Version register, bits 7:0).</summary>
public enum SdhciSpecVersion
{
    /// <summary>SD Host Controller Specification 1.00.</summary>
    Version100 = 0,

    /// <summary>Version 2.00: ADMA2, high speed.</summary>
    Version200 = 1,

    /// <summary>Version 3.00: UHS-I, 10-bit clock divider, 8-bit base clock field, preset values.</summary>
    Version300 = 2,

    /// <summary>Version 4.00: UHS-II.</summary>
    Version400 = 3,

    /// <summary>Version 4.10: host version 4 mode, 64-bit addressing in V4 mode.</summary>
    Version410 = 4,

    /// <summary>Version 4.20.</summary>
    Version420 = 5,
}
