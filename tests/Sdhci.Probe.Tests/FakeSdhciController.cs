using System.Buffers.Binary;
using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Tests;

/// <summary>
/// A register-level stand-in for an SD host controller: a byte array with width-correct
/// little-endian access that records every access, so tests can prove what was read, with which
/// width, and that the data port was never touched.
/// </summary>
internal sealed class FakeSdhciController : RegisterBusModel
{
    private readonly byte[] _registers;
    private readonly List<(int Offset, int Width)> _reads = [];

    /// <param name="length">Size of the register window.</param>
    /// <param name="backedLength">
    /// Bytes that answer; a read above faults. QEMU's SDHCI model backs only 0x100 bytes of the
    /// ZCU102's 0x1000-byte window, so a dump must not count on anything above.
    /// </param>
    public FakeSdhciController(int length = 0x1000, int? backedLength = null)
        : base(length)
    {
        _registers = new byte[length];
        BackedLength = backedLength ?? length;
    }

    public int BackedLength { get; }

    /// <summary>Every read, in order: offset and width in bytes.</summary>
    public IReadOnlyList<(int Offset, int Width)> Reads => _reads;

    /// <summary>Fills every byte: 0xFF gives the all-ones controller of a dead bus.</summary>
    public void Fill(byte value) => Array.Fill(_registers, value);

    // Setters for the test's own arrangement; they are not recorded as controller accesses.
    public void Set8(int offset, byte value) => _registers[offset] = value;

    public void Set16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_registers.AsSpan(offset), value);

    public void Set32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_registers.AsSpan(offset), value);

    public void Set64(int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(_registers.AsSpan(offset), value);

    // The base checked bounds and alignment; a read above the backed bytes is a bus fault, as on QEMU's ZCU102.
    protected override ulong Read(int offset, int width)
    {
        var bytes = Access(offset, width);
        ulong value = 0;
        for (var i = width - 1; i >= 0; i--)
            value = (value << 8) | bytes[i];
        return value;
    }

    protected override void Write(int offset, int width, ulong value)
    {
        var bytes = Target(offset, width);
        for (var i = 0; i < width; i++)
            bytes[i] = (byte)(value >> (8 * i));
    }

    private Span<byte> Access(int offset, int width)
    {
        var span = Target(offset, width);
        if (offset + width > BackedLength)
            throw new InvalidOperationException($"Bus fault: read of 0x{offset:x} is beyond the 0x{BackedLength:x} backed bytes.");
        _reads.Add((offset, width));
        return span;
    }

    private Span<byte> Target(int offset, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset + width > _registers.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x} + {width} is beyond the 0x{_registers.Length:x}-byte window.");
        if (offset % width != 0)
            throw new ArgumentException($"A {width}-byte access at 0x{offset:x} is misaligned.", nameof(offset));
        return _registers.AsSpan(offset, width);
    }

    /// <summary>QEMU's xlnx-zcu102 SD controller (Arasan, spec 3.00) after reset with a card inserted.</summary>
    public static FakeSdhciController Zcu102(int backedLength = 0x1000)
    {
        var fake = new FakeSdhciController(0x1000, backedLength);
        fake.Set64(0x40, 0x280737ec6481);
        fake.Set16(0xFE, 0x2402);
        fake.Set32(0x24, 0x01ff0000);
        return fake;
    }

    /// <summary>QEMU's x86 sdhci-pci (spec 2.00): a 0x100-byte BAR.</summary>
    public static FakeSdhciController SdhciPci()
    {
        var fake = new FakeSdhciController(0x100);
        fake.Set32(0x40, 0x057834b4);
        fake.Set16(0xFE, 0x2401);
        fake.Set32(0x24, 0x01ff0000);
        return fake;
    }
}
