using Vfio.Platform.Mmio;

namespace Vfio.Platform.Tests;

/// <summary>A register block shaped like SDHCI's for the register-model tests (offsets from the SD Host
/// Controller Simplified Specification 4.20), with every access kind and width.</summary>
internal readonly struct TestSdhci : IRegisterBlock
{
    public static string Name => "TestSdhci";

    public static int Size => 0x100;

    public static readonly Register32<TestSdhci, Access.DataPort> BufferData = new(0x20);
    public static readonly Register32<TestSdhci, Access.ReadOnly> PresentState = new(0x24);
    public static readonly Register8<TestSdhci, Access.ReadWrite> HostControl1 = new(0x28);
    public static readonly Register16<TestSdhci, Access.ReadWrite> ClockControl = new(0x2C);
    public static readonly Register8<TestSdhci, Access.ReadWrite> SoftwareReset = new(0x2F);
    public static readonly Register32<TestSdhci, Access.ReadWrite> Status = new(0x30);
    public static readonly Register16<TestSdhci, Access.WriteOneToClear> NormalInterruptStatus = new(0x30);
    public static readonly Register16<TestSdhci, Access.ReadWrite> HostControl2 = new(0x3E);
    public static readonly Register64<TestSdhci, Access.ReadOnly> Capabilities64 = new(0x40);
    public static readonly Register32<TestSdhci, Access.ReadWrite> AdmaAddressLow = new(0x58);
    public static readonly Register16<TestSdhci, Access.WriteOnly> Command = new(0x0E);
    public static readonly Register16<TestSdhci, Access.ReadWrite> Version = new(0xFE);

    public static readonly BitField<UhsMode> UhsModeSelect = new(0, 3);
    public static readonly BitField<bool> Signalling18V = new(3, 1);
    public static readonly BitField<byte> DriverStrength = new(4, 2);
    public static readonly BitField<bool> CardDetect = new(16, 1);
}

internal enum UhsMode : ushort
{
    Sdr12 = 0,
    Sdr25 = 1,
    Sdr50 = 2,
    Sdr104 = 3,
    Ddr50 = 4,
}
