using System.Buffers.Binary;
using System.Globalization;
using static Sdhci.Probe.Sdhci.CardRegisterBits;

namespace Sdhci.Probe.Sdhci;

/// <summary>The SD configuration register (SCR, 64 bits, ACMD51): specification version, security, bus widths and optional commands.</summary>
/// <example>
/// <code>
/// var raw = new byte[8];
/// host.SendApplicationCommand(rca, 51, 0, SdResponseType.R1, new SdhciDataTransfer(SdhciTransferDirection.Read, 8, 1, raw));
/// var scr = Scr.Parse(raw);       // QEMU: 02 25 00 00 00 00 00 00: spec 2.00, 1- and 4-bit bus
/// </code>
/// </example>
public sealed record Scr
{
    private Scr(ulong raw)
    {
        Raw = raw;
        Structure = (int)Get(raw, 63, 60);
        SdSpec = (int)Get(raw, 59, 56);
        DataStatusAfterErase = Get(raw, 55, 55) != 0;
        Security = (int)Get(raw, 54, 52);
        BusWidths = (int)Get(raw, 51, 48);
        SdSpec3 = Get(raw, 47, 47) != 0;
        ExtendedSecurity = (int)Get(raw, 46, 43);
        SdSpec4 = Get(raw, 42, 42) != 0;
        SdSpecX = (int)Get(raw, 41, 38);
        CommandSupport = (int)Get(raw, 35, 32);
    }

    /// <summary>The register, bit 63 first.</summary>
    public ulong Raw { get; }

    /// <summary>The register as 16 hex digits, as Linux prints <c>/sys/block/mmcblkN/device/scr</c>.</summary>
    public string RawHex => Raw.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>SCR_STRUCTURE, bits 63:60 (0 = version 1.0).</summary>
    public int Structure { get; }

    /// <summary>SD_SPEC, bits 59:56.</summary>
    public int SdSpec { get; }

    /// <summary>DATA_STAT_AFTER_ERASE, bit 55: erased blocks read as ones.</summary>
    public bool DataStatusAfterErase { get; }

    /// <summary>SD_SECURITY, bits 54:52.</summary>
    public int Security { get; }

    /// <summary>SD_BUS_WIDTHS, bits 51:48: bit 0 = 1-bit, bit 2 = 4-bit.</summary>
    public int BusWidths { get; }

    /// <summary>Whether the card runs a 1-bit bus.</summary>
    public bool Supports1BitBus => (BusWidths & 1) != 0;

    /// <summary>Whether the card runs a 4-bit bus (ACMD6).</summary>
    public bool Supports4BitBus => (BusWidths & 4) != 0;

    /// <summary>SD_SPEC3, bit 47.</summary>
    public bool SdSpec3 { get; }

    /// <summary>EX_SECURITY, bits 46:43.</summary>
    public int ExtendedSecurity { get; }

    /// <summary>SD_SPEC4, bit 42.</summary>
    public bool SdSpec4 { get; }

    /// <summary>SD_SPECX, bits 41:38.</summary>
    public int SdSpecX { get; }

    /// <summary>CMD_SUPPORT, bits 35:32: bit 0 = CMD20, bit 1 = CMD23, bit 2 = CMD48/49, bit 3 = CMD58/59.</summary>
    public int CommandSupport { get; }

    /// <summary>Whether the card takes CMD23 (SET_BLOCK_COUNT).</summary>
    public bool SupportsCmd23 => (CommandSupport & 2) != 0;

    /// <summary>The physical layer specification version the card follows: "1.0x", "1.10", "2.00", "3.0x", "4.xx" to "9.xx".</summary>
    public string SpecVersion => (SdSpec, SdSpec3, SdSpec4, SdSpecX) switch
    {
        (0, _, _, _) => "1.0x",
        (1, _, _, _) => "1.10",
        (2, false, _, _) => "2.00",
        (2, true, false, 0) => "3.0x",
        (2, true, true, 0) => "4.xx",
        (2, true, _, >= 1 and <= 5) => string.Create(CultureInfo.InvariantCulture, $"{SdSpecX + 4}.xx"),
        _ => string.Create(CultureInfo.InvariantCulture, $"unknown (SD_SPEC {SdSpec}, SD_SPEC3 {(SdSpec3 ? 1 : 0)}, SD_SPEC4 {(SdSpec4 ? 1 : 0)}, SD_SPECX {SdSpecX})"),
    };

    /// <summary>What <see cref="Security"/> means.</summary>
    public string SecurityText => Security switch
    {
        0 => "none",
        1 => "not used",
        2 => "SDSC (security 1.01)",
        3 => "SDHC (security 2.00)",
        4 => "SDXC (security 3.xx)",
        _ => string.Create(CultureInfo.InvariantCulture, $"reserved ({Security})"),
    };

    /// <summary>Decodes the 8 bytes ACMD51 returns, most significant first.</summary>
    /// <param name="raw">The register.</param>
    /// <returns>The decoded SCR.</returns>
    /// <exception cref="ArgumentException">Not 8 bytes.</exception>
    public static Scr Parse(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != 8)
            throw new ArgumentException($"An SCR is 8 bytes (64 bits); got {raw.Length}.", nameof(raw));
        return new Scr(BinaryPrimitives.ReadUInt64BigEndian(raw));
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"SCR: SD spec {SpecVersion}, bus widths {(Supports1BitBus ? "1" : "")}{(Supports1BitBus && Supports4BitBus ? " and " : "")}{(Supports4BitBus ? "4" : "")}-bit, security {SecurityText}{(SupportsCmd23 ? ", CMD23" : "")}");
}
