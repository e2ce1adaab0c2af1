using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vfio.Platform.Mmio;

/// <summary>A short-lived view of an <see cref="MmioRegion"/> for hot loops, from
/// <see cref="MmioRegion.View"/>. It holds the base address and the bounds itself, so the JIT keeps
/// them in registers across a loop instead of reloading them from the region after every volatile
/// access. Same checks (bounds, alignment) and same errors as the region; accesses of a region that is
/// not mapped go through the region's pread/pwrite path.</summary>
/// <remarks>A view must not outlive its region: a view used after the region is disposed reads and
/// writes unmapped memory. Being a <c>ref struct</c>, it cannot be stored in a field or captured by a
/// lambda or an async method, which keeps it to the scope where it was taken.</remarks>
/// <example>
/// <code>
/// var view = regs.View();
/// for (var i = 0; i &lt; 1024; i++) sum += view.Read32(0x20);
/// </code>
/// </example>
public readonly unsafe ref struct MmioView
{
    private readonly MmioRegion _region;
    private readonly byte* _base;
    private readonly ulong _slots8, _slots16, _slots32, _slots64;

    internal MmioView(MmioRegion region, byte* mapping, ulong slots8, ulong slots16, ulong slots32, ulong slots64)
    {
        _region = region;
        _base = mapping;
        _slots8 = slots8;
        _slots16 = slots16;
        _slots32 = slots32;
        _slots64 = slots64;
    }

    /// <summary>Reads 8 bits at <paramref name="offset"/>.</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read8(long offset) =>
        (ulong)offset >= _slots8 ? (byte)_region.Slow(offset, 1, write: false, 0) : Volatile.Read(ref *(_base + offset));

    /// <summary>Reads 16 bits at <paramref name="offset"/> (2-byte aligned).</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read16(long offset) =>
        BitOperations.RotateRight((ulong)offset, 1) >= _slots16
            ? (ushort)_region.Slow(offset, 2, write: false, 0)
            : Volatile.Read(ref *(ushort*)(_base + offset));

    /// <summary>Reads 32 bits at <paramref name="offset"/> (4-byte aligned).</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(long offset) =>
        BitOperations.RotateRight((ulong)offset, 2) >= _slots32
            ? (uint)_region.Slow(offset, 4, write: false, 0)
            : Volatile.Read(ref *(uint*)(_base + offset));

    /// <summary>Reads 64 bits at <paramref name="offset"/> (8-byte aligned) in one access.</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read64(long offset) =>
        BitOperations.RotateRight((ulong)offset, 3) >= _slots64
            ? _region.Slow(offset, 8, write: false, 0)
            : Volatile.Read(ref *(ulong*)(_base + offset));

    /// <summary>Writes 8 bits at <paramref name="offset"/>.</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write8(long offset, byte value)
    {
        if ((ulong)offset >= _slots8)
        {
            _ = _region.Slow(offset, 1, write: true, value);
            return;
        }

        Volatile.Write(ref *(_base + offset), value);
    }

    /// <summary>Writes 16 bits at <paramref name="offset"/> (2-byte aligned).</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write16(long offset, ushort value)
    {
        if (BitOperations.RotateRight((ulong)offset, 1) >= _slots16)
        {
            _ = _region.Slow(offset, 2, write: true, value);
            return;
        }

        Volatile.Write(ref *(ushort*)(_base + offset), value);
    }

    /// <summary>Writes 32 bits at <paramref name="offset"/> (4-byte aligned).</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(long offset, uint value)
    {
        if (BitOperations.RotateRight((ulong)offset, 2) >= _slots32)
        {
            _ = _region.Slow(offset, 4, write: true, value);
            return;
        }

        Volatile.Write(ref *(uint*)(_base + offset), value);
    }

    /// <summary>Writes 64 bits at <paramref name="offset"/> (8-byte aligned) in one access.</summary>
    /// <param name="offset">Byte offset in the region.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write64(long offset, ulong value)
    {
        if (BitOperations.RotateRight((ulong)offset, 3) >= _slots64)
        {
            _ = _region.Slow(offset, 8, write: true, value);
            return;
        }

        Volatile.Write(ref *(ulong*)(_base + offset), value);
    }

    /// <summary>Reads a named 32-bit register of a block at offset 0 of the region (checked like <see cref="Read32"/>).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read<TBlock, TAccess>(Register32<TBlock, TAccess> register)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IReadable => Read32(register.Offset);

    /// <summary>Writes a named 32-bit register of a block at offset 0 of the region (checked like <see cref="Write32"/>).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TBlock, TAccess>(Register32<TBlock, TAccess> register, uint value)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IWritable => Write32(register.Offset, value);
}
