using System.Globalization;

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
