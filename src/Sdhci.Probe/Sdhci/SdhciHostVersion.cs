using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The Host Controller Version register (0xFE): specification version and the vendor's own number.
/// </summary>
/// <param name="Raw">The 16-bit register value.</param>
/// <example>
/// <code>
/// var version = new SdhciHostVersion(io.Read16(0xFE));   // 0x2402 on QEMU's ZCU102
/// Console.WriteLine(version.SpecVersionText);            // "3.00"
/// </code>
/// </example>
public readonly record struct SdhciHostVersion(ushort Raw)
{
    /// <summary>The specification version; values above 4.20 are kept as they are (cast) and read as unknown.</summary>
    public SdhciSpecVersion SpecVersion => (SdhciSpecVersion)SdhciRegisters.HostControllerVersionFields.SpecificationVersion.Extract(Raw);

    /// <summary>The vendor version number (bits 15:8), meaningful only to the vendor.</summary>
    public byte VendorVersion => (byte)SdhciRegisters.HostControllerVersionFields.VendorVersion.Extract(Raw);

    /// <summary>"1.00", "2.00", "3.00", "4.00", "4.10", "4.20", or "unknown (N)".</summary>
    public string SpecVersionText => Text(SpecVersion);

    /// <summary>The way the specification writes a version number.</summary>
    /// <param name="version">The version.</param>
    /// <returns>"3.00" and so on.</returns>
    public static string Text(SdhciSpecVersion version) => version switch
    {
        SdhciSpecVersion.Version100 => "1.00",
        SdhciSpecVersion.Version200 => "2.00",
        SdhciSpecVersion.Version300 => "3.00",
        SdhciSpecVersion.Version400 => "4.00",
        SdhciSpecVersion.Version410 => "4.10",
        SdhciSpecVersion.Version420 => "4.20",
        _ => string.Create(CultureInfo.InvariantCulture, $"unknown ({(int)version})"),
    };

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"SDHCI {SpecVersionText}, vendor version 0x{VendorVersion:x2}");
}
