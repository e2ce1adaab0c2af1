namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The register window of one SD host controller, as the controller code sees it: little-endian
/// 8, 16 and 32-bit accesses at byte offsets from the start of the controller's register block.
/// </summary>
/// <remarks>
/// <para>
/// The real implementation maps the controller through VFIO; tests use a byte array. Keeping this
/// interface free of VFIO lets the whole register model, the dump and the command engine run
/// against a register-level fake.
/// </para>
/// <para>
/// Every access is a single bus access of exactly the given width: controllers react to the width
/// (a 32-bit read of <c>0x20</c> pops four bytes from the data FIFO; a 16-bit write of the command
/// register at <c>0x0E</c> starts a command), so an implementation must never widen, split or
/// merge accesses. There is deliberately no 64-bit access: SDHCI registers are 32 bits wide at
/// most and many SoC buses reject 64-bit loads.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// IRegisterIo io = ...;                                  // a VFIO MMIO region, or a fake
/// ushort version = io.Read16(0xFE);                      // Host Controller Version
/// io.Write8(0x2F, 0x01);                                 // Software Reset For All
/// ulong caps = io.Read(SdhciRegisters.Capabilities);    // width taken from the register model
/// </code>
/// </example>
public interface IRegisterIo
{
    /// <summary>Size of the register window in bytes (0x1000 for a ZynqMP SD controller, 0x100 for sdhci-pci's BAR).</summary>
    int Length { get; }

    /// <summary>Reads one byte at <paramref name="offset"/>.</summary>
    /// <param name="offset">Byte offset from the start of the register window.</param>
    /// <returns>The value the controller returned.</returns>
    byte Read8(int offset);

    /// <summary>Reads a little-endian 16-bit value at <paramref name="offset"/> (2-byte aligned).</summary>
    /// <param name="offset">Byte offset from the start of the register window.</param>
    /// <returns>The value the controller returned.</returns>
    ushort Read16(int offset);

    /// <summary>Reads a little-endian 32-bit value at <paramref name="offset"/> (4-byte aligned).</summary>
    /// <param name="offset">Byte offset from the start of the register window.</param>
    /// <returns>The value the controller returned.</returns>
    uint Read32(int offset);

    /// <summary>Writes one byte at <paramref name="offset"/>.</summary>
    /// <param name="offset">Byte offset from the start of the register window.</param>
    /// <param name="value">The value to write.</param>
    void Write8(int offset, byte value);

    /// <summary>Writes a little-endian 16-bit value at <paramref name="offset"/> (2-byte aligned).</summary>
    /// <param name="offset">Byte offset from the start of the register window.</param>
    /// <param name="value">The value to write.</param>
    void Write16(int offset, ushort value);

    /// <summary>Writes a little-endian 32-bit value at <paramref name="offset"/> (4-byte aligned).</summary>
    /// <param name="offset">Byte offset from the start of the register window.</param>
    /// <param name="value">The value to write.</param>
    void Write32(int offset, uint value);

    /// <summary>Reads the 32-bit register at <paramref name="offset"/> once per element of
    /// <paramref name="destination"/>, in order: draining a data port (a FIFO behind one address).
    /// The default calls <see cref="Read32"/>; a region that can check the offset once should.</summary>
    /// <param name="offset">Byte offset of the port.</param>
    /// <param name="destination">Receives the values.</param>
    void ReadRepeated32(int offset, Span<uint> destination)
    {
        for (var i = 0; i < destination.Length; i++)
            destination[i] = Read32(offset);
    }

    /// <summary>Writes each element of <paramref name="source"/> to the 32-bit register at <paramref name="offset"/>, in order: filling a data port.</summary>
    /// <param name="offset">Byte offset of the port.</param>
    /// <param name="source">The values.</param>
    void WriteRepeated32(int offset, ReadOnlySpan<uint> source)
    {
        foreach (var value in source)
            Write32(offset, value);
    }
}
