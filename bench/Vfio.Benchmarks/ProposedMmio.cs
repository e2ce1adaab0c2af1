using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vfio.Benchmarks;

/// <summary>A prototype of the hot-path change proposed for <c>Vfio.Platform.Mmio.MmioRegion</c> (see
/// ../README.md, "Proposed fix"), kept here so the benchmark can show what it buys; src/ is not changed by
/// the benchmark. One unsigned compare does the sign, bounds and alignment checks: rotating the offset
/// right by log2(width) moves any misaligned low bits to the top, so a misaligned or negative offset
/// becomes huge, and an aligned one becomes its slot index, which must be below the slot count. An
/// unmapped or disposed region has slot counts of 0, so every access takes the slow path and the
/// separate null test goes too.</summary>
public sealed unsafe class ProposedMmio
{
    private readonly byte* _base;
    private readonly ulong _slots8, _slots16, _slots32, _slots64;

    public ProposedMmio(byte* mapping, long length)
    {
        _base = mapping;
        _slots8 = (ulong)length;
        _slots16 = (ulong)length >> 1;
        _slots32 = (ulong)length >> 2;
        _slots64 = (ulong)length >> 3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read8(long offset)
    {
        var p = _base;
        return (ulong)offset >= _slots8 ? (byte)Slow(offset) : Volatile.Read(ref *(p + offset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read16(long offset)
    {
        var p = _base;
        return BitOperations.RotateRight((ulong)offset, 1) >= _slots16 ? (ushort)Slow(offset) : Volatile.Read(ref *(ushort*)(p + offset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(long offset)
    {
        var p = _base;
        return BitOperations.RotateRight((ulong)offset, 2) >= _slots32 ? (uint)Slow(offset) : Volatile.Read(ref *(uint*)(p + offset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read64(long offset)
    {
        var p = _base;
        return BitOperations.RotateRight((ulong)offset, 3) >= _slots64 ? Slow(offset) : Volatile.Read(ref *(ulong*)(p + offset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write8(long offset, byte value)
    {
        var p = _base;
        if ((ulong)offset >= _slots8)
        {
            _ = Slow(offset);
            return;
        }

        Volatile.Write(ref *(p + offset), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write16(long offset, ushort value)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 1) >= _slots16)
        {
            _ = Slow(offset);
            return;
        }

        Volatile.Write(ref *(ushort*)(p + offset), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(long offset, uint value)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 2) >= _slots32)
        {
            _ = Slow(offset);
            return;
        }

        Volatile.Write(ref *(uint*)(p + offset), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write64(long offset, ulong value)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 3) >= _slots64)
        {
            _ = Slow(offset);
            return;
        }

        Volatile.Write(ref *(ulong*)(p + offset), value);
    }

    /// <summary>A view for a hot loop: the base and length copied into a ref struct, which the JIT keeps in
    /// registers, so they are not reloaded from the object after every volatile (acquire) access.</summary>
    public ProposedView View() => new(_base, _slots8, _slots16, _slots32, _slots64);

    /// <summary>Stands for MmioRegion.Slow (disposed, out of bounds, misaligned, or pread/pwrite).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static ulong Slow(long offset) => throw new ArgumentOutOfRangeException(nameof(offset));
}

/// <summary>The second half of the proposal: a short-lived view of a region for hot loops, with the same
/// single-compare check on values held in registers. (In the library it would come from
/// <c>MmioRegion.View()</c> and be invalid after Dispose, like a Span over freed memory.)</summary>
public readonly unsafe ref struct ProposedView
{
    private readonly byte* _base;
    private readonly ulong _slots8, _slots16, _slots32, _slots64;

    internal ProposedView(byte* mapping, ulong slots8, ulong slots16, ulong slots32, ulong slots64)
    {
        _base = mapping;
        _slots8 = slots8;
        _slots16 = slots16;
        _slots32 = slots32;
        _slots64 = slots64;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read8(long offset) =>
        (ulong)offset >= _slots8 ? (byte)ProposedMmio.Slow(offset) : Volatile.Read(ref *(_base + offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read16(long offset) =>
        BitOperations.RotateRight((ulong)offset, 1) >= _slots16 ? (ushort)ProposedMmio.Slow(offset) : Volatile.Read(ref *(ushort*)(_base + offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(long offset) =>
        BitOperations.RotateRight((ulong)offset, 2) >= _slots32 ? (uint)ProposedMmio.Slow(offset) : Volatile.Read(ref *(uint*)(_base + offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read64(long offset) =>
        BitOperations.RotateRight((ulong)offset, 3) >= _slots64 ? ProposedMmio.Slow(offset) : Volatile.Read(ref *(ulong*)(_base + offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write8(long offset, byte value)
    {
        if ((ulong)offset >= _slots8)
        {
            _ = ProposedMmio.Slow(offset);
            return;
        }

        Volatile.Write(ref *(_base + offset), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write16(long offset, ushort value)
    {
        if (BitOperations.RotateRight((ulong)offset, 1) >= _slots16)
        {
            _ = ProposedMmio.Slow(offset);
            return;
        }

        Volatile.Write(ref *(ushort*)(_base + offset), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(long offset, uint value)
    {
        if (BitOperations.RotateRight((ulong)offset, 2) >= _slots32)
        {
            _ = ProposedMmio.Slow(offset);
            return;
        }

        Volatile.Write(ref *(uint*)(_base + offset), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write64(long offset, ulong value)
    {
        if (BitOperations.RotateRight((ulong)offset, 3) >= _slots64)
        {
            _ = ProposedMmio.Slow(offset);
            return;
        }

        Volatile.Write(ref *(ulong*)(_base + offset), value);
    }
}
