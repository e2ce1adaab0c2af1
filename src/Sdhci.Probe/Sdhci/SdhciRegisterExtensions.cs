using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Sdhci;

/// <summary>Access to a register by its dump description (offset and width from <see cref="SdhciBlock"/>), checked
/// against the bus: the variable-offset path the dump and pokes take. The driver uses the register block instead.</summary>
/// <example>
/// <code>
/// ulong caps = io.Read(SdhciRegisters.Capabilities);          // two 32-bit reads, low half first
/// io.Write(SdhciRegisters.ClockControl, 0x0001);                // one 16-bit write
/// </code>
/// </example>
public static class SdhciRegisterExtensions
{
    /// <summary>Reads <paramref name="register"/> with its own width; 64-bit registers are read as two 32-bit halves, low half first.</summary>
    /// <param name="io">The register window.</param>
    /// <param name="register">The register.</param>
    /// <returns>The value, zero-extended.</returns>
    /// <exception cref="InvalidOperationException">
    /// The register is the buffer data port (a read would consume card data) or write-only.
    /// A PIO transfer reads the data port through the register block on purpose.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">The register lies beyond the window.</exception>
    public static ulong Read(this IRegisterBus io, SdhciRegister register)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(register);
        if (!register.IsReadable)
            throw new InvalidOperationException(
                $"{register} is not read by the register model: {(register.Access == SdhciRegisterAccess.DataPort ? "reading the data port consumes card data" : "it is write-only")}.");
        CheckInside(io, register);
        return register.Width switch
        {
            1 => io.Read8(register.Offset),
            2 => io.Read16(register.Offset),
            4 => io.Read32(register.Offset),
            _ => io.Read32(register.Offset) | ((ulong)io.Read32(register.Offset + 4) << 32),
        };
    }

    /// <summary>Writes <paramref name="register"/> with its own width; 64-bit registers as two 32-bit halves, low half first.</summary>
    /// <param name="io">The register window.</param>
    /// <param name="register">The register.</param>
    /// <param name="value">The value; bits beyond the register's width must be zero.</param>
    /// <exception cref="InvalidOperationException">The register is read-only.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit, or the register lies beyond the window.</exception>
    public static void Write(this IRegisterBus io, SdhciRegister register, ulong value)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(register);
        if (register.Access == SdhciRegisterAccess.ReadOnly)
            throw new InvalidOperationException($"{register} is read-only.");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, register.AllOnes);
        CheckInside(io, register);
        switch (register.Width)
        {
            case 1: io.Write8(register.Offset, (byte)value); break;
            case 2: io.Write16(register.Offset, (ushort)value); break;
            case 4: io.Write32(register.Offset, (uint)value); break;
            default:
                io.Write32(register.Offset, (uint)value);
                io.Write32(register.Offset + 4, (uint)(value >> 32));
                break;
        }
    }

    private static void CheckInside(IRegisterBus io, SdhciRegister register)
    {
        if (register.Offset + register.Width > io.Length)
            throw new ArgumentOutOfRangeException(nameof(register), $"{register} lies beyond the 0x{io.Length:x}-byte register window.");
    }
}
