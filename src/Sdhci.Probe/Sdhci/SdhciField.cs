using System.Globalization;
using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// One bit field of a controller register: where it sits, how wide it is and the name the
/// specification gives it. The decoder prints fields through these descriptors and driver code
/// tests and builds register values with them, so each position is written down once.
/// </summary>
/// <example>
/// <code>
/// uint present = io.Read32(SdhciRegisters.PresentState.Offset);
/// if (SdhciRegisters.PresentStateFields.CardInserted.IsSet(present)) { ... }
/// ushort clock = (ushort)SdhciRegisters.ClockControlFields.SdClockEnable.Insert(current, 1);
/// </code>
/// </example>
public sealed class SdhciField
{
    private readonly Func<ulong, SdhciDecodeContext, string> _describe;

    private SdhciField(string name, int shift, int width, Func<ulong, SdhciDecodeContext, string> describe)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shift);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shift + width, 64);
        Name = name;
        Shift = shift;
        Width = width;
        _describe = describe;
    }

    /// <summary>The field's name as the SD Host Controller Simplified Specification spells it.</summary>
    public string Name { get; }

    /// <summary>Position of the field's lowest bit in the register.</summary>
    public int Shift { get; }

    /// <summary>Number of bits.</summary>
    public int Width { get; }

    /// <summary>The field's bits in place, e.g. <c>0x3F00</c> for bits 13:8.</summary>
    public ulong Mask => ValueMask << Shift;

    /// <summary>The bit range as the specification writes it: <c>"16"</c> or <c>"15:8"</c>.</summary>
    public string Bits => Width == 1
        ? Shift.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Shift + Width - 1}:{Shift}");

    private ulong ValueMask => Width == 64 ? ulong.MaxValue : (1UL << Width) - 1;

    /// <summary>The field's value, shifted down to bit 0.</summary>
    /// <param name="registerValue">The whole register.</param>
    /// <returns>The field's value.</returns>
    public ulong Extract(ulong registerValue) => (registerValue >> Shift) & ValueMask;

    /// <summary>Whether any bit of the field is set (for one-bit flags: whether the flag is set).</summary>
    /// <param name="registerValue">The whole register.</param>
    /// <returns><see langword="true"/> when the field is non-zero.</returns>
    public bool IsSet(ulong registerValue) => (registerValue & Mask) != 0;

    /// <summary>Returns <paramref name="registerValue"/> with this field replaced by <paramref name="fieldValue"/>.</summary>
    /// <param name="registerValue">The whole register.</param>
    /// <param name="fieldValue">The new field value, not shifted.</param>
    /// <returns>The new register value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field.</exception>
    public ulong Insert(ulong registerValue, ulong fieldValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fieldValue, ValueMask);
        return (registerValue & ~Mask) | (fieldValue << Shift);
    }

    /// <summary>What a field value means, in words ("3.3 V", "100 MHz", "yes").</summary>
    /// <param name="fieldValue">The field's value, as <see cref="Extract"/> returns it.</param>
    /// <param name="context">The rest of the controller's state some fields depend on (version, base clock).</param>
    /// <returns>The meaning.</returns>
    public string Describe(ulong fieldValue, SdhciDecodeContext context) => _describe(fieldValue, context);

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{Bits}]";

    /// <summary>A one-bit flag that reads as yes/no, at a typed field's place.</summary>
    internal static SdhciField Flag(BitField<bool> field, string name) => Flag(field.Shift, name);

    /// <summary>A one-bit flag whose two states have names of their own, at a typed field's place.</summary>
    internal static SdhciField Flag(BitField<bool> field, string name, string whenSet, string whenClear) =>
        Flag(field.Shift, name, whenSet, whenClear);

    /// <summary>A multi-bit field with listed values, at a typed field's place.</summary>
    internal static SdhciField Choice<T>(BitField<T> field, string name, params string[] meanings)
        where T : unmanaged => Choice(field.Shift, field.Width, name, meanings);

    /// <summary>A field with its own reading of the value, at a typed field's place.</summary>
    internal static SdhciField Custom<T>(BitField<T> field, string name, Func<ulong, SdhciDecodeContext, string> describe)
        where T : unmanaged => Custom(field.Shift, field.Width, name, describe);

    /// <summary>A one-bit flag that reads as yes/no.</summary>
    internal static SdhciField Flag(int bit, string name) =>
        new(name, bit, 1, static (v, _) => v != 0 ? "yes" : "no");

    /// <summary>A one-bit flag whose two states have names of their own.</summary>
    internal static SdhciField Flag(int bit, string name, string whenSet, string whenClear) =>
        new(name, bit, 1, (v, _) => v != 0 ? whenSet : whenClear);

    /// <summary>A multi-bit field whose values are listed in the specification; unlisted values read as reserved.</summary>
    internal static SdhciField Choice(int shift, int width, string name, params string[] meanings) =>
        new(name, shift, width, (v, _) => v < (ulong)meanings.Length && meanings[v].Length > 0
            ? meanings[v]
            : string.Create(CultureInfo.InvariantCulture, $"reserved ({v})"));

    /// <summary>A plain number, shown in decimal and hex.</summary>
    internal static SdhciField Number(int shift, int width, string name) =>
        new(name, shift, width, static (v, _) => string.Create(CultureInfo.InvariantCulture, $"{v} (0x{v:x})"));

    /// <summary>A field with its own reading of the value (units, derived quantities).</summary>
    internal static SdhciField Custom(int shift, int width, string name, Func<ulong, SdhciDecodeContext, string> describe) =>
        new(name, shift, width, describe);
}
