namespace Sdhci.Probe.Sdhci;

/// <summary>Which registers beyond the standard block a dump reads.</summary>
/// <example>
/// <code>
/// var snapshot = SdhciDump.Read(io, SdhciDumpOptions.Arasan);
/// </code>
/// </example>
public sealed record SdhciDumpOptions
{
    /// <summary>The standard registers only: right for sdhci-pci and any controller of unknown make.</summary>
    public static SdhciDumpOptions Standard { get; } = new();

    /// <summary>Standard plus the Arasan vendor register: right for "arasan,sdhci-8.9a" and "xlnx,zynqmp-8.9a".</summary>
    public static SdhciDumpOptions Arasan { get; } = new() { ArasanVendorRegisters = true };

    /// <summary>Read <see cref="ArasanRegisters.Vendor"/>.</summary>
    public bool ArasanVendorRegisters { get; init; }

    /// <summary>
    /// Read the command queue engine at 0x200 (<see cref="ArasanRegisters.Cqe"/>). Only for an
    /// "arasan,sdhci-5.1" core with CQE: elsewhere the addresses may be unbacked and a read can fault.
    /// </summary>
    public bool ArasanCqe { get; init; }
}
