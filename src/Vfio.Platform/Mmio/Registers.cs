namespace Vfio.Platform.Mmio;

/// <summary>A named 8-bit device register: its offset in a region, declared once and read with
/// <see cref="MmioRegion.Read(Register8)"/>, so the width is part of the type and cannot be mixed up.</summary>
/// <param name="Offset">Byte offset in the region.</param>
/// <param name="Name">Name for messages and dumps.</param>
public readonly record struct Register8(long Offset, string Name);

/// <summary>A named 16-bit device register (see <see cref="Register8"/>).</summary>
/// <param name="Offset">Byte offset in the region, 2-byte aligned.</param>
/// <param name="Name">Name for messages and dumps.</param>
public readonly record struct Register16(long Offset, string Name);

/// <summary>A named 32-bit device register (see <see cref="Register8"/>).</summary>
/// <param name="Offset">Byte offset in the region, 4-byte aligned.</param>
/// <param name="Name">Name for messages and dumps.</param>
/// <example>
/// <code>
/// static readonly Register32 NormalInterruptStatus = new(0x30, "Normal Interrupt Status");
/// static readonly BitField CommandComplete = new(0, 1);
/// var status = regs.Read(NormalInterruptStatus);
/// if (CommandComplete.Get(status) != 0) regs.Write(NormalInterruptStatus, CommandComplete.Mask32);
/// </code>
/// </example>
public readonly record struct Register32(long Offset, string Name);

/// <summary>A named 64-bit device register, accessed in one bus access (see <see cref="Register8"/>).</summary>
/// <param name="Offset">Byte offset in the region, 8-byte aligned.</param>
/// <param name="Name">Name for messages and dumps.</param>
public readonly record struct Register64(long Offset, string Name);

/// <summary>A bit field of a register: <paramref name="Width"/> bits starting at bit <paramref name="Shift"/>.</summary>
/// <param name="Shift">Lowest bit, 0 to 63.</param>
/// <param name="Width">Number of bits, 1 to 64 - <paramref name="Shift"/>.</param>
public readonly record struct BitField(int Shift, int Width)
{
    /// <summary>Lowest bit, 0 to 63.</summary>
    public int Shift { get; } = Shift is >= 0 and < 64
        ? Shift
        : throw new ArgumentOutOfRangeException(nameof(Shift), Shift, "A bit field starts at bit 0 to 63.");

    /// <summary>Number of bits, 1 to 64 - <see cref="Shift"/>.</summary>
    public int Width { get; } = Width >= 1 && Width <= 64 - Shift
        ? Width
        : throw new ArgumentOutOfRangeException(nameof(Width), Width, $"A bit field at bit {Shift} is 1 to {64 - Shift} bits wide.");

    /// <summary>The field's bits in place.</summary>
    public ulong Mask => Width >= 64 ? ulong.MaxValue << Shift : ((1UL << Width) - 1) << Shift;

    /// <summary>The field's bits in place, for a 32-bit register.</summary>
    public uint Mask32 => (uint)Mask;

    /// <summary>The field's value in <paramref name="register"/>.</summary>
    /// <param name="register">A register value.</param>
    /// <returns>The field, shifted down to bit 0.</returns>
    public ulong Get(ulong register) => (register & Mask) >> Shift;

    /// <summary><paramref name="register"/> with the field replaced by <paramref name="value"/>.</summary>
    /// <param name="register">A register value.</param>
    /// <param name="value">The new field value; must fit in <see cref="Width"/> bits.</param>
    /// <returns>The new register value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field.</exception>
    public ulong With(ulong register, ulong value)
    {
        if (Width < 64 && value >> Width != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Does not fit a {Width}-bit field.");
        }

        return (register & ~Mask) | (value << Shift);
    }
}
