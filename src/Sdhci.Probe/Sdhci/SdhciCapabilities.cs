using F = Sdhci.Probe.Sdhci.SdhciRegisters.CapabilitiesFields;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The 64-bit Capabilities register (0x40, read as two 32-bit halves), decoded. The field
/// positions come from <see cref="SdhciRegisters.CapabilitiesFields"/>; this type adds the
/// arithmetic (units, the version-dependent width of the base clock field).
/// </summary>
/// <param name="Raw">Capabilities (bits 31:0, offset 0x40) and Capabilities_1 (bits 63:32, offset 0x44).</param>
/// <param name="Version">The controller's specification version: the base clock field is 6 bits before 3.00 and 8 bits from 3.00.</param>
/// <example>
/// <code>
/// var caps = new SdhciCapabilities(0x280737ec6481, SdhciSpecVersion.Version300); // QEMU's ZCU102
/// caps.BaseClockHz;            // 100_000_000
/// caps.Adma2;                  // true
/// caps.SystemBus64Bit;         // true
/// </code>
/// </example>
public readonly record struct SdhciCapabilities(ulong Raw, SdhciSpecVersion Version)
{
    /// <summary>Timeout Clock Frequency field (bits 5:0), in the unit of <see cref="TimeoutClockInMHz"/>; 0 means "ask the platform".</summary>
    public int TimeoutClockFrequency => (int)F.TimeoutClockFrequency.Extract(Raw);

    /// <summary>Timeout Clock Unit (bit 7): MHz when set, kHz when clear.</summary>
    public bool TimeoutClockInMHz => F.TimeoutClockUnit.IsSet(Raw);

    /// <summary>The timeout clock (TMCLK) in Hz, or 0 when the register does not say.</summary>
    public long TimeoutClockHz => TimeoutClockFrequency * (TimeoutClockInMHz ? 1_000_000L : 1_000L);

    /// <summary>
    /// Base Clock Frequency For SD Clock in MHz: bits 15:8 from spec 3.00, bits 13:8 before (the
    /// two upper bits were reserved then). 0 means the platform must say (Arasan cores on some SoCs).
    /// </summary>
    public int BaseClockMHz => (int)(Version >= SdhciSpecVersion.Version300
        ? F.BaseClockFrequency.Extract(Raw)
        : F.BaseClockFrequency.Extract(Raw) & 0x3F);

    /// <summary><see cref="BaseClockMHz"/> in Hz.</summary>
    public long BaseClockHz => BaseClockMHz * 1_000_000L;

    /// <summary>Max Block Length (bits 17:16) in bytes: 512, 1024, 2048, or 0 for the reserved value.</summary>
    public int MaxBlockLength => F.MaxBlockLength.Extract(Raw) switch
    {
        0 => 512,
        1 => 1024,
        2 => 2048,
        _ => 0,
    };

    /// <summary>8-bit Support For Embedded Device (bit 18).</summary>
    public bool Supports8BitBus => F.EightBitSupport.IsSet(Raw);

    /// <summary>ADMA2 Support (bit 19).</summary>
    public bool Adma2 => F.Adma2Support.IsSet(Raw);

    /// <summary>ADMA1 Support (bit 20, spec 2.00 only; reserved from 3.00).</summary>
    public bool Adma1 => F.Adma1Support.IsSet(Raw);

    /// <summary>High Speed Support (bit 21).</summary>
    public bool HighSpeed => F.HighSpeedSupport.IsSet(Raw);

    /// <summary>SDMA Support (bit 22).</summary>
    public bool Sdma => F.SdmaSupport.IsSet(Raw);

    /// <summary>Suspend/Resume Support (bit 23).</summary>
    public bool SuspendResume => F.SuspendResumeSupport.IsSet(Raw);

    /// <summary>Voltage Support 3.3 V (bit 24).</summary>
    public bool Voltage33 => F.Voltage33Support.IsSet(Raw);

    /// <summary>Voltage Support 3.0 V (bit 25).</summary>
    public bool Voltage30 => F.Voltage30Support.IsSet(Raw);

    /// <summary>Voltage Support 1.8 V (bit 26).</summary>
    public bool Voltage18 => F.Voltage18Support.IsSet(Raw);

    /// <summary>64-bit System Address Support For V4 mode (bit 27, spec 4.10).</summary>
    public bool SystemBus64BitV4 => F.SystemAddress64BitV4Support.IsSet(Raw);

    /// <summary>64-bit System Bus Support (bit 28): ADMA2 may use 64-bit descriptors.</summary>
    public bool SystemBus64Bit => F.SystemBus64BitSupport.IsSet(Raw);

    /// <summary>Asynchronous Interrupt Support (bit 29).</summary>
    public bool AsyncInterrupt => F.AsynchronousInterruptSupport.IsSet(Raw);

    /// <summary>Slot Type (bits 31:30).</summary>
    public SdhciSlotType SlotType => (SdhciSlotType)F.SlotType.Extract(Raw);

    /// <summary>SDR50 Support (bit 32).</summary>
    public bool Sdr50 => F.Sdr50Support.IsSet(Raw);

    /// <summary>SDR104 Support (bit 33).</summary>
    public bool Sdr104 => F.Sdr104Support.IsSet(Raw);

    /// <summary>DDR50 Support (bit 34).</summary>
    public bool Ddr50 => F.Ddr50Support.IsSet(Raw);

    /// <summary>Driver Type A Support (bit 36).</summary>
    public bool DriverTypeA => F.DriverTypeASupport.IsSet(Raw);

    /// <summary>Driver Type C Support (bit 37).</summary>
    public bool DriverTypeC => F.DriverTypeCSupport.IsSet(Raw);

    /// <summary>Driver Type D Support (bit 38).</summary>
    public bool DriverTypeD => F.DriverTypeDSupport.IsSet(Raw);

    /// <summary>Timer Count For Re-Tuning (bits 43:40) as stored: 0 disabled, N = 2^(N-1) seconds up to 0xB, 0xF "ask the platform".</summary>
    public int RetuningTimerCount => (int)F.RetuningTimerCount.Extract(Raw);

    /// <summary>The re-tuning period in seconds, or null when disabled or not given here.</summary>
    public int? RetuningPeriodSeconds => RetuningTimerCount is >= 1 and <= 0xB ? 1 << (RetuningTimerCount - 1) : null;

    /// <summary>Use Tuning For SDR50 (bit 45).</summary>
    public bool UseTuningForSdr50 => F.UseTuningForSdr50.IsSet(Raw);

    /// <summary>Re-Tuning Modes (bits 47:46) as the mode number 1, 2 or 3 (0 for the reserved value).</summary>
    public int RetuningMode => F.RetuningModes.Extract(Raw) switch
    {
        0 => 1,
        1 => 2,
        2 => 3,
        _ => 0,
    };

    /// <summary>Clock Multiplier field (bits 55:48): 0 when programmable clock mode is not supported, else the multiplier minus one.</summary>
    public int ClockMultiplierField => (int)F.ClockMultiplier.Extract(Raw);

    /// <summary>The programmable clock mode multiplier (field + 1), or 0 when the mode is not supported.</summary>
    public int ClockMultiplier => ClockMultiplierField == 0 ? 0 : ClockMultiplierField + 1;
}
