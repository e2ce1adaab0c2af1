using System.Buffers.Binary;
using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The SD bus speed modes, with CMD6 function group 1 (access mode) function numbers as values
/// (SD Physical Layer 3.01, 4.3.10.3, Table 4-11), which are also Host Control 2's UHS Mode Select values
/// (SD Host Controller 3.00, Host Control 2 register (0x3E): 0 SDR12, 1 SDR25, 2 SDR50, 3 SDR104, 4 DDR50). The values are not in
/// order of speed (DDR50 is 4): compare modes with <see cref="SdBusSpeeds.Rank"/>.
/// </summary>
/// <remarks>
/// <see cref="Sdr50"/>, <see cref="Ddr50"/> and <see cref="Sdr104"/> are UHS-I modes: 1.8 V signalling after
/// CMD11 and Host Control 2 UHS Mode Select; SDR104, and SDR50 where the host asks for it, need tuning (CMD19).
/// </remarks>
public enum SdBusSpeed
{
    /// <summary>Default Speed (DS): up to 25 MHz at 3.3 V signalling (function 0; SDR12 at 1.8 V).</summary>
    Default = 0,

    /// <summary>High Speed (HS): up to 50 MHz at 3.3 V signalling, Host Control 1 High Speed Enable (function 1; SDR25 at 1.8 V).</summary>
    High = 1,

    /// <summary>UHS-I SDR50: up to 100 MHz at 1.8 V signalling (function 2); tuning when the host asks for it (Capabilities bit 45).</summary>
    Sdr50 = 2,

    /// <summary>UHS-I SDR104: up to 208 MHz at 1.8 V signalling (function 3); always tuned.</summary>
    Sdr104 = 3,

    /// <summary>UHS-I DDR50: up to 50 MHz, data on both clock edges, at 1.8 V signalling (function 4; host: Capabilities bit 34); no tuning.</summary>
    Ddr50 = 4,
}

/// <summary>Names, clocks and order of <see cref="SdBusSpeed"/>.</summary>
public static class SdBusSpeeds
{
    /// <summary>
    /// The order in which modes are preferred and capped, slowest first: Default, High (SDR25), SDR50, DDR50,
    /// SDR104. DDR50 moves as much data as SDR50 (50 MB/s) at half the clock; Linux's <c>sd_update_bus_speed_mode</c>
    /// prefers it to SDR50, and so does this driver, so <c>--max-speed ddr50</c> allows SDR50 and <c>sdr50</c> does not allow DDR50.
    /// </summary>
    /// <param name="speed">The mode.</param>
    /// <returns>0 to 4.</returns>
    public static int Rank(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High => 1,
        SdBusSpeed.Sdr50 => 2,
        SdBusSpeed.Ddr50 => 3,
        SdBusSpeed.Sdr104 => 4,
        _ => 0,
    };

    /// <summary>Whether a cap of <paramref name="max"/> allows <paramref name="speed"/>.</summary>
    /// <param name="speed">The mode.</param>
    /// <param name="max">The cap (<c>--max-speed</c>).</param>
    /// <returns>True when <paramref name="speed"/> is no faster than <paramref name="max"/>.</returns>
    public static bool Allows(this SdBusSpeed max, SdBusSpeed speed) => Rank(speed) <= Rank(max);

    /// <summary>The highest SD clock of <paramref name="speed"/> (Physical Layer 3.01, 4.3.10: 25 MHz DS, 50 MHz HS and DDR50, 100 MHz SDR50, 208 MHz SDR104).</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>Hz.</returns>
    public static long MaxClockHz(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High or SdBusSpeed.Ddr50 => 50_000_000,
        SdBusSpeed.Sdr50 => 100_000_000,
        SdBusSpeed.Sdr104 => 208_000_000,
        _ => 25_000_000,
    };

    /// <summary>The mode as the specification names it: "Default Speed", "High Speed", "SDR50", "DDR50", "SDR104".</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>The name.</returns>
    public static string Name(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High => "High Speed",
        SdBusSpeed.Sdr50 => "SDR50",
        SdBusSpeed.Sdr104 => "SDR104",
        SdBusSpeed.Ddr50 => "DDR50",
        _ => "Default Speed",
    };

    /// <summary>The mode as <c>--max-speed</c> and the JSON reports spell it: "default", "high", "sdr50", "ddr50", "sdr104".</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>The key.</returns>
    public static string Key(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High => "high",
        SdBusSpeed.Sdr50 => "sdr50",
        SdBusSpeed.Sdr104 => "sdr104",
        SdBusSpeed.Ddr50 => "ddr50",
        _ => "default",
    };

    /// <summary>Whether <paramref name="speed"/> is a UHS-I mode (1.8 V signalling).</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>True for SDR50, DDR50 and SDR104.</returns>
    public static bool IsUhs(SdBusSpeed speed) => Rank(speed) >= Rank(SdBusSpeed.Sdr50);
}

/// <summary>
/// The 512-bit status data structure a CMD6 (SWITCH_FUNC) returns on the DAT lines, in either mode
/// (SD Physical Layer 4.3.10.4, Table 4-13): what each of the six function groups supports, what the
/// card selected (or 0xF: cannot), and, from structure version 1, which functions are busy. Bytes come
/// most significant first: byte 0 holds bits 511:504.
/// </summary>
/// <example>
/// <code>
/// var status = SdSwitchStatus.Parse(block);            // the 64 bytes of CMD6 mode 0, argument 0x00FFFFF1
/// bool hs = status.Supports(1, 1) &amp;&amp; status.Selected(1) == 1;
/// </code>
/// </example>
public sealed class SdSwitchStatus
{
    /// <summary>The length of the status block.</summary>
    public const int Length = 64;

    /// <summary>What <see cref="Selected"/> reports when the function cannot be switched to.</summary>
    public const int CannotSwitch = 0xF;

    private readonly byte[] _raw;

    private SdSwitchStatus(byte[] raw) => _raw = raw;

    /// <summary>Maximum current consumption with the selected functions (bits 511:496), in mA; 0 means the switch failed (mode 1).</summary>
    public int MaxCurrentMilliamps => BinaryPrimitives.ReadUInt16BigEndian(_raw);

    /// <summary>Data structure version (bits 375:368): 0 has no busy status, 1 adds it.</summary>
    public int StructureVersion => _raw[17];

    /// <summary>The status as 128 hex digits.</summary>
    public string RawHex => Convert.ToHexStringLower(_raw);

    /// <summary>The support bits of function group <paramref name="group"/> (1 to 6): bit N set when function N is supported.</summary>
    /// <param name="group">1 (access mode) to 6.</param>
    /// <returns>16 bits; bit 15 is always set by a card (the group's escape function).</returns>
    public ushort Support(int group) => BinaryPrimitives.ReadUInt16BigEndian(_raw.AsSpan(GroupWordOffset(group, 12)));

    /// <summary>Whether function <paramref name="function"/> of <paramref name="group"/> is supported.</summary>
    /// <param name="group">1 to 6.</param>
    /// <param name="function">0 to 15.</param>
    /// <returns>True when its support bit is set.</returns>
    public bool Supports(int group, int function)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(function);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(function, 15);
        return (Support(group) & (1 << function)) != 0;
    }

    /// <summary>
    /// The function of <paramref name="group"/> the card would select (mode 0) or has selected (mode 1),
    /// or <see cref="CannotSwitch"/> (bits 399:376, four bits a group, group 6 first).
    /// </summary>
    /// <param name="group">1 to 6.</param>
    /// <returns>0 to 15.</returns>
    public int Selected(int group)
    {
        CheckGroup(group);
        var nibble = group - 1;                           // group 1 is the low nibble of byte 16
        var value = _raw[16 - (nibble / 2)];
        return nibble % 2 == 0 ? value & 0xF : value >> 4;
    }

    /// <summary>Whether function <paramref name="function"/> of <paramref name="group"/> is busy (structure version 1, bits 367:272; always false in version 0).</summary>
    /// <param name="group">1 to 6.</param>
    /// <param name="function">0 to 15.</param>
    /// <returns>True when busy.</returns>
    public bool Busy(int group, int function)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(function);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(function, 15);
        if (StructureVersion < 1)
            return false;
        return (BinaryPrimitives.ReadUInt16BigEndian(_raw.AsSpan(GroupWordOffset(group, 28))) & (1 << function)) != 0;
    }

    /// <summary>Decodes the 64 bytes of a CMD6 data phase.</summary>
    /// <param name="raw">The block, as the card sent it.</param>
    /// <returns>The status.</returns>
    /// <exception cref="ArgumentException">Not 64 bytes.</exception>
    public static SdSwitchStatus Parse(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != Length)
            throw new ArgumentException($"A CMD6 status is {Length} bytes (512 bits); got {raw.Length}.", nameof(raw));
        return new SdSwitchStatus(raw.ToArray());
    }

    /// <summary>The CMD6 argument that asks for <paramref name="function"/> in group 1 and leaves groups 2 to 6 as they are (0xF).</summary>
    /// <param name="switchNow">Mode 1 (switch, bit 31) rather than mode 0 (check).</param>
    /// <param name="function">The group 1 function.</param>
    /// <returns>The argument.</returns>
    public static uint AccessModeArgument(bool switchNow, SdBusSpeed function) =>
        (switchNow ? 0x8000_0000u : 0) | 0x00FF_FFF0u | ((uint)function & 0xF);

    /// <summary>
    /// The CMD6 argument for a UHS-I mode: group 1 (access mode) <paramref name="function"/>, group 3 (driver
    /// strength, bits 11:8) and group 4 (current limit, bits 15:12) as given, 0xF (no change) for the others
    /// (Physical Layer 3.01, 4.3.10.3).
    /// </summary>
    /// <param name="switchNow">Mode 1 (switch) rather than mode 0 (check).</param>
    /// <param name="function">The group 1 function.</param>
    /// <param name="driverStrength">Group 3's function (0 Type B, 1 Type A, 2 Type C, 3 Type D), or 0xF.</param>
    /// <param name="currentLimit">Group 4's function (0 200 mA, 1 400 mA, 2 600 mA, 3 800 mA), or 0xF.</param>
    /// <returns>The argument.</returns>
    public static uint UhsArgument(bool switchNow, SdBusSpeed function, int driverStrength, int currentLimit) =>
        (switchNow ? 0x8000_0000u : 0) | 0x00FF_00F0u | (((uint)currentLimit & 0xF) << 12) | (((uint)driverStrength & 0xF) << 8) | ((uint)function & 0xF);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"CMD6 status: group 1 supports 0x{Support(1):x4}, selects 0x{Selected(1):x}, {MaxCurrentMilliamps} mA, structure version {StructureVersion}");

    private static int GroupWordOffset(int group, int groupOneOffset)
    {
        CheckGroup(group);
        return groupOneOffset - ((group - 1) * 2);        // group 1 last: bytes 12-13 (support), 28-29 (busy)
    }

    private static void CheckGroup(int group)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(group, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(group, 6);
    }
}
