using System.Buffers.Binary;
using System.Globalization;

namespace Sdhci.Probe.Sdhci;

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
