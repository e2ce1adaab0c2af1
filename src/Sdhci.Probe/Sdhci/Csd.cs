using System.Globalization;
using static Sdhci.Probe.Sdhci.CardRegisterBits;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The card-specific data register (CSD, 128 bits, CMD9): capacity, block lengths and the fastest
/// clock, in its three layouts (1.0 for standard capacity, 2.0 for SDHC/SDXC, 3.0 for SDUC).
/// </summary>
/// <example>
/// <code>
/// var csd = Csd.Parse(host.SendCommand(9, (uint)rca &lt;&lt; 16, SdResponseType.R2).GetLong());
/// csd.CapacityBytes;        // 67_108_864 for QEMU's 64 MiB card
/// csd.MaxTransferRateHz;    // 25_000_000 (TRAN_SPEED 0x32)
/// </code>
/// </example>
public sealed record Csd
{
    private static readonly int[] TimeValueTenths = [0, 10, 12, 13, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 70, 80];
    private static readonly long[] RateUnitHz = [100_000, 1_000_000, 10_000_000, 100_000_000];

    private Csd(UInt128 raw)
    {
        Raw = raw;
        Structure = (int)Get(raw, 127, 126);
        Taac = (byte)Get(raw, 119, 112);
        Nsac = (byte)Get(raw, 111, 104);
        TranSpeed = (byte)Get(raw, 103, 96);
        CommandClasses = (ushort)Get(raw, 95, 84);
        ReadBlockLengthExponent = (int)Get(raw, 83, 80);
        ReadBlockPartial = Get(raw, 79, 79) != 0;
        DsrImplemented = Get(raw, 76, 76) != 0;
        switch (Structure)
        {
            case 0:
                DeviceSize = Get(raw, 73, 62);
                DeviceSizeMultiplier = (int)Get(raw, 49, 47);
                CapacityBytes = ((long)DeviceSize + 1) << (DeviceSizeMultiplier + 2 + ReadBlockLengthExponent);
                break;
            case 1:
                DeviceSize = Get(raw, 69, 48);
                CapacityBytes = ((long)DeviceSize + 1) * 512 * 1024;
                break;
            case 2:
                DeviceSize = Get(raw, 75, 48);
                CapacityBytes = ((long)DeviceSize + 1) * 512 * 1024;
                break;
            default:
                CapacityBytes = 0;
                break;
        }

        EraseBlockEnable = Get(raw, 46, 46) != 0;
        WriteProtectGroupEnable = Get(raw, 31, 31) != 0;
        WriteBlockLengthExponent = (int)Get(raw, 25, 22);
        PermanentWriteProtect = Get(raw, 13, 13) != 0;
        TemporaryWriteProtect = Get(raw, 12, 12) != 0;
    }

    /// <summary>The register, bit 127 first (bits 7:0 read 0 through an SDHCI controller).</summary>
    public UInt128 Raw { get; }

    /// <summary>The register as 32 hex digits, as Linux prints <c>/sys/block/mmcblkN/device/csd</c>.</summary>
    public string RawHex => Raw.ToString("x32", CultureInfo.InvariantCulture);

    /// <summary>CSD_STRUCTURE, bits 127:126: 0 = version 1.0, 1 = 2.0, 2 = 3.0.</summary>
    public int Structure { get; }

    /// <summary>"1.0", "2.0", "3.0", or "reserved".</summary>
    public string Version => Structure switch
    {
        0 => "1.0",
        1 => "2.0",
        2 => "3.0",
        _ => "reserved",
    };

    /// <summary>TAAC, bits 119:112: data read access time 1.</summary>
    public byte Taac { get; }

    /// <summary>NSAC, bits 111:104: data read access time 2, in 100-clock units.</summary>
    public byte Nsac { get; }

    /// <summary>TRAN_SPEED, bits 103:96: maximum data transfer rate per data line (0x32 = 25 MHz, 0x5A = 50 MHz).</summary>
    public byte TranSpeed { get; }

    /// <summary><see cref="TranSpeed"/> in Hz (one bit per clock per line), 0 for a reserved encoding.</summary>
    public long MaxTransferRateHz
    {
        get
        {
            var unit = TranSpeed & 7;
            var tenths = TimeValueTenths[(TranSpeed >> 3) & 0xF];
            return unit >= RateUnitHz.Length ? 0 : tenths * RateUnitHz[unit] / 10;
        }
    }

    /// <summary>CCC, bits 95:84: bit n set means command class n is supported.</summary>
    public ushort CommandClasses { get; }

    /// <summary>READ_BL_LEN, bits 83:80: the read block length as a power of two.</summary>
    public int ReadBlockLengthExponent { get; }

    /// <summary>The maximum read block length in bytes (512, 1024 or 2048).</summary>
    public int ReadBlockLength => 1 << ReadBlockLengthExponent;

    /// <summary>READ_BL_PARTIAL, bit 79.</summary>
    public bool ReadBlockPartial { get; }

    /// <summary>DSR_IMP, bit 76.</summary>
    public bool DsrImplemented { get; }

    /// <summary>C_SIZE: bits 73:62 (1.0), 69:48 (2.0) or 75:48 (3.0).</summary>
    public uint DeviceSize { get; }

    /// <summary>C_SIZE_MULT, bits 49:47 (1.0 only; 0 otherwise).</summary>
    public int DeviceSizeMultiplier { get; }

    /// <summary>
    /// User data capacity in bytes: (C_SIZE + 1) × 2^(C_SIZE_MULT + 2) × 2^READ_BL_LEN for 1.0,
    /// (C_SIZE + 1) × 512 KiB for 2.0 and 3.0.
    /// </summary>
    public long CapacityBytes { get; }

    /// <summary>The capacity in 512-byte blocks, the unit of the block read commands' addresses on SDHC.</summary>
    public long BlockCount => CapacityBytes / 512;

    /// <summary>ERASE_BLK_EN, bit 46.</summary>
    public bool EraseBlockEnable { get; }

    /// <summary>WP_GRP_ENABLE, bit 31.</summary>
    public bool WriteProtectGroupEnable { get; }

    /// <summary>WRITE_BL_LEN, bits 25:22, as a power of two.</summary>
    public int WriteBlockLengthExponent { get; }

    /// <summary>PERM_WRITE_PROTECT, bit 13.</summary>
    public bool PermanentWriteProtect { get; }

    /// <summary>TMP_WRITE_PROTECT, bit 12.</summary>
    public bool TemporaryWriteProtect { get; }

    /// <summary>Decodes the 16 bytes of an R2 response (see <see cref="SdResponse.GetLong"/>).</summary>
    /// <param name="raw">The register, most significant byte first.</param>
    /// <returns>The decoded CSD.</returns>
    /// <exception cref="ArgumentException">Not 16 bytes.</exception>
    public static Csd Parse(ReadOnlySpan<byte> raw) => new(Read128(raw, "CSD"));

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"CSD {Version}: {CapacityBytes} bytes ({BlockCount} blocks of 512), read blocks up to {ReadBlockLength} bytes, " +
        $"up to {SdhciRegisters.FormatHz(MaxTransferRateHz)} (TRAN_SPEED 0x{TranSpeed:x2})");
}
