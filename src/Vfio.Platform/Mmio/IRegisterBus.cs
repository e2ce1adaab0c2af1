namespace Vfio.Platform.Mmio;

/// <summary>
/// Where a <see cref="RegisterBlock{TBlock, TBus}"/>'s accesses go: little-endian loads and stores of
/// exactly the given width at byte offsets from the block's start. <see cref="MmioBus"/> is the mapped
/// device (what <see cref="MmioRegion.Bind{TBlock}"/> gives); a test implements it with a class that
/// models the device, and binds the same block over it with <see cref="RegisterBlock.Over{TBlock, TBus}"/>,
/// so a driver runs unchanged against the device and against its model.
/// </summary>
/// <remarks>
/// <para>A driver takes the bus as a type parameter (<c>class Driver&lt;TBus&gt; where TBus : IRegisterBus</c>):
/// for the <c>struct</c> <see cref="MmioBus"/> the JIT compiles the driver once more, with every named access
/// one volatile load or store (no interface call, no check); for a class (a device model) it calls through
/// the interface.</para>
/// <para>Each access must be one access of exactly that width: devices react to it (a 32-bit read of a data
/// port pops four bytes), so an implementation never widens, splits or merges accesses.</para>
/// </remarks>
public interface IRegisterBus
{
    /// <summary>Bytes that can be accessed from offset 0.</summary>
    int Length { get; }

    /// <summary>Reads one byte.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <returns>The value.</returns>
    byte Read8(int offset);

    /// <summary>Reads 16 bits.</summary>
    /// <param name="offset">Byte offset, 2-byte aligned.</param>
    /// <returns>The value.</returns>
    ushort Read16(int offset);

    /// <summary>Reads 32 bits.</summary>
    /// <param name="offset">Byte offset, 4-byte aligned.</param>
    /// <returns>The value.</returns>
    uint Read32(int offset);

    /// <summary>Reads 64 bits in one access.</summary>
    /// <param name="offset">Byte offset, 8-byte aligned.</param>
    /// <returns>The value.</returns>
    ulong Read64(int offset);

    /// <summary>Writes one byte.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="value">The value.</param>
    void Write8(int offset, byte value);

    /// <summary>Writes 16 bits.</summary>
    /// <param name="offset">Byte offset, 2-byte aligned.</param>
    /// <param name="value">The value.</param>
    void Write16(int offset, ushort value);

    /// <summary>Writes 32 bits.</summary>
    /// <param name="offset">Byte offset, 4-byte aligned.</param>
    /// <param name="value">The value.</param>
    void Write32(int offset, uint value);

    /// <summary>Writes 64 bits in one access.</summary>
    /// <param name="offset">Byte offset, 8-byte aligned.</param>
    /// <param name="value">The value.</param>
    void Write64(int offset, ulong value);

    /// <summary>Reads the 32-bit register at <paramref name="offset"/> once per element of
    /// <paramref name="destination"/>, in order: draining a data port.</summary>
    /// <param name="offset">Byte offset of the port.</param>
    /// <param name="destination">Receives the values.</param>
    void ReadRepeated32(int offset, Span<uint> destination);

    /// <summary>Writes each element of <paramref name="source"/> to the 32-bit register at
    /// <paramref name="offset"/>, in order: filling a data port.</summary>
    /// <param name="offset">Byte offset of the port.</param>
    /// <param name="source">The values.</param>
    void WriteRepeated32(int offset, ReadOnlySpan<uint> source);
}
