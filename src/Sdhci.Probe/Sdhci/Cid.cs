using System.Globalization;
using System.Text;
using static Sdhci.Probe.Sdhci.CardRegisterBits;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The card's identification register (CID, 128 bits, CMD2/CMD10): who made it, what it is called,
/// its serial number and when it was made.
/// </summary>
/// <example>
/// <code>
/// var cid = Cid.Parse(host.SendCommand(2, 0, SdResponseType.R2).GetLong());
/// Console.WriteLine(cid);   // QEMU's card: "QEMU! rev 0.1, manufacturer 0xaa, OEM "XY", serial 0xdeadbeef, made 2006-02"
/// </code>
/// </example>
public sealed record Cid
{
    private Cid(UInt128 raw)
    {
        Raw = raw;
        ManufacturerId = (byte)Get(raw, 127, 120);
        OemId = Ascii(raw, 119, 2);
        ProductName = Ascii(raw, 103, 5);
        Revision = (byte)Get(raw, 63, 56);
        SerialNumber = Get(raw, 55, 24);
        ManufacturingYear = 2000 + (int)Get(raw, 19, 12);
        ManufacturingMonth = (int)Get(raw, 11, 8);
    }

    /// <summary>The register, bit 127 first (bits 7:0, CRC and end bit, read 0 through an SDHCI controller).</summary>
    public UInt128 Raw { get; }

    /// <summary>The register as 32 hex digits, the way Linux prints <c>/sys/block/mmcblkN/device/cid</c>.</summary>
    public string RawHex => Raw.ToString("x32", CultureInfo.InvariantCulture);

    /// <summary>MID, bits 127:120: assigned by the SD Association.</summary>
    public byte ManufacturerId { get; }

    /// <summary>OID, bits 119:104: two ASCII characters.</summary>
    public string OemId { get; }

    /// <summary>PNM, bits 103:64: five ASCII characters.</summary>
    public string ProductName { get; }

    /// <summary>PRV, bits 63:56: hardware revision in the high nibble, firmware in the low.</summary>
    public byte Revision { get; }

    /// <summary>PRV's hardware revision (n of "n.m").</summary>
    public int HardwareRevision => Revision >> 4;

    /// <summary>PRV's firmware revision (m of "n.m").</summary>
    public int FirmwareRevision => Revision & 0xF;

    /// <summary>PSN, bits 55:24.</summary>
    public uint SerialNumber { get; }

    /// <summary>MDT year, bits 19:12, counted from 2000.</summary>
    public int ManufacturingYear { get; }

    /// <summary>MDT month, bits 11:8, 1 to 12.</summary>
    public int ManufacturingMonth { get; }

    /// <summary>Decodes the 16 bytes of an R2 response (see <see cref="SdResponse.GetLong"/>).</summary>
    /// <param name="raw">The register, most significant byte first.</param>
    /// <returns>The decoded CID.</returns>
    /// <exception cref="ArgumentException">Not 16 bytes.</exception>
    public static Cid Parse(ReadOnlySpan<byte> raw) => new(Read128(raw, "CID"));

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{ProductName} rev {HardwareRevision}.{FirmwareRevision}, manufacturer 0x{ManufacturerId:x2}, OEM \"{OemId}\", serial 0x{SerialNumber:x8}, made {ManufacturingYear:0000}-{ManufacturingMonth:00}");

    private static string Ascii(UInt128 raw, int highBit, int characters)
    {
        var text = new StringBuilder(characters);
        for (var i = 0; i < characters; i++)
        {
            var c = (char)Get(raw, highBit - (i * 8), highBit - (i * 8) - 7);
            text.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return text.ToString();
    }
}
