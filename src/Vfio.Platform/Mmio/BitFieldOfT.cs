using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Vfio.Platform.Mmio;

/// <summary>
/// A typed bit field of a register: <see cref="Width"/> bits from bit <see cref="Shift"/>, whose value is a
/// <typeparamref name="TValue"/> (an enum of the values the specification names, a <see cref="bool"/> for a
/// one-bit flag, or an unsigned integer). Declared once (<c>static readonly</c>), so the JIT folds the shift
/// and mask into the instructions; <see cref="RegisterBlock{TBlock, TBus}.Modify{TValue}(Register32{TBlock, Access.ReadWrite}, BitField{TValue}, TValue)"/>
/// writes one field of a register as the specification words it.
/// </summary>
/// <typeparam name="TValue">An enum, <see cref="bool"/>, <see cref="byte"/>, <see cref="ushort"/>, <see cref="uint"/> or <see cref="ulong"/>
/// (any type of 1, 2, 4 or 8 bytes is taken bit for bit; those are the meaningful ones).</typeparam>
/// <example>
/// <code>
/// enum UhsMode : ushort { Sdr12, Sdr25, Sdr50, Sdr104, Ddr50 }
/// static readonly BitField&lt;UhsMode&gt; UhsModeSelect = new(0, 3);
/// static readonly BitField&lt;bool&gt; Signalling18V = new(3, 1);
/// regs.Modify(Sdhci.HostControl2, UhsModeSelect, UhsMode.Sdr50);
/// bool is18V = Signalling18V.Get(regs.Read(Sdhci.HostControl2));
/// </code>
/// </example>
// Deliberately not a readonly struct: for a call on a static readonly field the compiler then copies the field
// (ldsfld) instead of passing its address, and NativeAOT folds the copy of a preinitialized field to constants
// (a field's Get is `and eax, MASK; shr eax, SHIFT`); through the address it loads shift and width at run time.
// The fields are still immutable (get-only properties). Measured on linux-x64, bench/README.md 2026-11-30 (2).
public struct BitField<TValue>
    where TValue : unmanaged
{
    /// <summary>Declares the field.</summary>
    /// <param name="shift">Lowest bit, 0 to 63.</param>
    /// <param name="width">Number of bits: 1 to 64 - <paramref name="shift"/>, and no more than <typeparamref name="TValue"/> holds (1 for <see cref="bool"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The field does not fit a 64-bit register or its value type.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="TValue"/> is not 1, 2, 4 or 8 bytes.</exception>
    public BitField(int shift, int width)
    {
        // Only checks NativeAOT's build-time interpreter can run (sizeof, compares): a static readonly field
        // is then preinitialized and folded into the instructions. Type.IsEnum would stop that (measured).
        var size = Unsafe.SizeOf<TValue>();
        if (size is not (1 or 2 or 4 or 8))
        {
            ThrowSize(size);
        }

        var bits = typeof(TValue) == typeof(bool) ? 1 : size * 8;
        ArgumentOutOfRangeException.ThrowIfNegative(shift);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shift, 63);
        if (width < 1 || width > 64 - shift || width > bits)
        {
            ThrowWidth(shift, width, bits);
        }

        Shift = shift;
        Width = width;
    }

    /// <summary>Lowest bit, 0 to 63.</summary>
    public int Shift { get; }

    /// <summary>Number of bits.</summary>
    public int Width { get; }

    /// <summary>The field's bits in place.</summary>
    public ulong Mask
    {
        // Inlined, so a static readonly field's mask folds to a constant (NativeAOT does not inline it otherwise).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (ulong.MaxValue >> (64 - Width)) << Shift;
    }

    /// <summary>The field's value in <paramref name="register"/>.</summary>
    /// <param name="register">A register value (any width, zero-extended).</param>
    /// <returns>The field's bits as a <typeparamref name="TValue"/>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TValue Get(ulong register) => FromBits((register & Mask) >> Shift);

    /// <summary><paramref name="register"/> with the field replaced by <paramref name="value"/>.</summary>
    /// <param name="register">A register value.</param>
    /// <param name="value">The new value; must fit in <see cref="Width"/> bits.</param>
    /// <returns>The new register value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong With(ulong register, TValue value) => (register & ~Mask) | InPlace(value);

    /// <summary><paramref name="register"/> with the field replaced by <paramref name="value"/>, for a
    /// register of up to 32 bits.</summary>
    /// <param name="register">A register value.</param>
    /// <param name="value">The new value; must fit in <see cref="Width"/> bits.</param>
    /// <returns>The new register value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field.</exception>
    /// <exception cref="ArgumentException">The field lies above bit 31.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint With(uint register, TValue value)
    {
        if (Shift + Width > 32)
        {
            ThrowAbove(Shift, Width, 32);
        }

        return (uint)With((ulong)register, value);
    }

    /// <summary><paramref name="value"/> shifted into the field's place, all other bits 0.</summary>
    /// <param name="value">The value; must fit in <see cref="Width"/> bits.</param>
    /// <returns>The bits.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong InPlace(TValue value)
    {
        var bits = ToBits(value);
        if (Width < 64 && bits >> Width != 0)
        {
            ThrowTooWide(Shift, Width, bits);
        }

        return bits << Shift;
    }

    /// <summary>Throws when the field does not fit a register of <paramref name="registerBits"/> bits: the
    /// registers' Modify calls it, and for a <c>static readonly</c> field the JIT folds the test away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CheckFits(int registerBits)
    {
        if (Shift + Width > registerBits)
        {
            ThrowAbove(Shift, Width, registerBits);
        }
    }

    /// <summary>The field for messages: "bits 3..5 (UhsMode)".</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"bits {Shift}..{Shift + Width - 1} ({typeof(TValue).Name})";

    // Unsafe.BitCast, not Unsafe.As on a ref: taking the value's address would keep it in memory and stop
    // the JIT from folding a constant argument. The size switch is a JIT-time constant: one branch remains.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ToBits(TValue value) => Unsafe.SizeOf<TValue>() switch
    {
        1 => Unsafe.BitCast<TValue, byte>(value),
        2 => Unsafe.BitCast<TValue, ushort>(value),
        4 => Unsafe.BitCast<TValue, uint>(value),
        _ => Unsafe.BitCast<TValue, ulong>(value),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TValue FromBits(ulong bits) => Unsafe.SizeOf<TValue>() switch
    {
        1 => Unsafe.BitCast<byte, TValue>((byte)bits),
        2 => Unsafe.BitCast<ushort, TValue>((ushort)bits),
        4 => Unsafe.BitCast<uint, TValue>((uint)bits),
        _ => Unsafe.BitCast<ulong, TValue>(bits),
    };

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowSize(int size) =>
        throw new NotSupportedException($"A bit field's value is 1, 2, 4 or 8 bytes (an enum, bool or unsigned integer), not {size} ({typeof(TValue).Name}).");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWidth(int shift, int width, int bits) =>
        throw new ArgumentOutOfRangeException(nameof(width), width, $"A {typeof(TValue).Name} field at bit {shift} is 1 to {Math.Min(64 - shift, bits)} bits wide.");

    // The throw helpers are static and take the field's numbers by value: an instance method would take the
    // field's address, which stops the JIT from folding a static readonly field's shift and width.
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooWide(int shift, int width, ulong value) =>
        throw new ArgumentOutOfRangeException(nameof(value), value, $"0x{value:x} does not fit the {width}-bit field at bit {shift}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAbove(int shift, int width, int registerBits) =>
        throw new ArgumentException($"The field at bits {shift}..{shift + width - 1} ({typeof(TValue).Name}) does not fit a {registerBits}-bit register.");
}
