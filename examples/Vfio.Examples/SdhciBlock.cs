using Vfio.Platform.Mmio;

namespace Vfio.Examples;

/// <summary>The SDHCI registers the examples use, declared once (SD Host Controller Simplified
/// Specification 4.20, section 2.1): offsets, widths, access kinds and fields.</summary>
internal readonly struct SdhciBlock : IRegisterBlock
{
    public static string Name => "SDHCI";

    public static int Size => 0x100;

    public static readonly Register32<SdhciBlock, Access.ReadOnly> PresentState = new(0x24);
    public static readonly Register16<SdhciBlock, Access.WriteOneToClear> NormalInterruptStatus = new(0x30);
    public static readonly Register16<SdhciBlock, Access.ReadWrite> HostControl2 = new(0x3E);
    public static readonly Register32<SdhciBlock, Access.ReadOnly> Capabilities = new(0x40);
    public static readonly Register16<SdhciBlock, Access.ReadOnly> HostVersion = new(0xFE);

    /// <summary>Host Control 2, bits 2:0.</summary>
    public static readonly BitField<UhsMode> UhsModeSelect = new(0, 3);

    /// <summary>Present State, bit 16.</summary>
    public static readonly BitField<bool> CardInserted = new(16, 1);

    /// <summary>Capabilities, bits 15:8 (MHz).</summary>
    public static readonly BitField<byte> BaseClockMhz = new(8, 8);
}

/// <summary>Host Control 2's UHS Mode Select values.</summary>
internal enum UhsMode : ushort
{
    Sdr12 = 0,
    Sdr25 = 1,
    Sdr50 = 2,
    Sdr104 = 3,
    Ddr50 = 4,
}
