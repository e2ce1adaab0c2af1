namespace Vfio.Platform.Mmio;

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
