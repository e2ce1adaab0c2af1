using System.Runtime.CompilerServices;
using Vfio.Platform.Mmio;

namespace Vfio.Benchmarks;

/// <summary>The measured MMIO loops, shared by the BenchmarkDotNet benchmarks and the callgrind mode so
/// both count the same machine code. Each walks <see cref="Accesses"/> consecutive naturally aligned
/// offsets of one width, exactly like <c>mmio_*</c> in ../baseline/baseline.c: reads add into a sum
/// (so the loads have a consumer), writes store the offset.</summary>
public static unsafe class MmioLoops
{
    /// <summary>Accesses per loop (one BenchmarkDotNet invocation).</summary>
    public const int Accesses = 1024;

    /// <summary>Bytes the loops touch at most: 1024 accesses of 8 bytes.</summary>
    public const int RegionBytes = Accesses * 8;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint Read8(MmioRegion r)
    {
        uint sum = 0;
        for (long off = 0; off < Accesses * 1; off += 1)
        {
            sum += r.Read8(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint Read16(MmioRegion r)
    {
        uint sum = 0;
        for (long off = 0; off < Accesses * 2; off += 2)
        {
            sum += r.Read16(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint Read32(MmioRegion r)
    {
        uint sum = 0;
        for (long off = 0; off < Accesses * 4; off += 4)
        {
            sum += r.Read32(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Read64(MmioRegion r)
    {
        ulong sum = 0;
        for (long off = 0; off < Accesses * 8; off += 8)
        {
            sum += r.Read64(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Write8(MmioRegion r)
    {
        for (long off = 0; off < Accesses * 1; off += 1)
        {
            r.Write8(off, (byte)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Write16(MmioRegion r)
    {
        for (long off = 0; off < Accesses * 2; off += 2)
        {
            r.Write16(off, (ushort)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Write32(MmioRegion r)
    {
        for (long off = 0; off < Accesses * 4; off += 4)
        {
            r.Write32(off, (uint)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Write64(MmioRegion r)
    {
        for (long off = 0; off < Accesses * 8; off += 8)
        {
            r.Write64(off, (ulong)off);
        }
    }

    // The same loops through a bare pointer into the same kind of mapping, with no bounds or alignment
    // check: what the JIT makes of Volatile.Read/Write alone. The gap between these and the loops above is
    // what MmioRegion's checks cost; the gap between these and C is the compiler's.

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint RawRead8(byte* p)
    {
        uint sum = 0;
        for (long off = 0; off < Accesses * 1; off += 1)
        {
            sum += Volatile.Read(ref *(p + off));
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint RawRead16(byte* p)
    {
        uint sum = 0;
        for (long off = 0; off < Accesses * 2; off += 2)
        {
            sum += Volatile.Read(ref *(ushort*)(p + off));
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint RawRead32(byte* p)
    {
        uint sum = 0;
        for (long off = 0; off < Accesses * 4; off += 4)
        {
            sum += Volatile.Read(ref *(uint*)(p + off));
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong RawRead64(byte* p)
    {
        ulong sum = 0;
        for (long off = 0; off < Accesses * 8; off += 8)
        {
            sum += Volatile.Read(ref *(ulong*)(p + off));
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RawWrite8(byte* p)
    {
        for (long off = 0; off < Accesses * 1; off += 1)
        {
            Volatile.Write(ref *(p + off), (byte)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RawWrite16(byte* p)
    {
        for (long off = 0; off < Accesses * 2; off += 2)
        {
            Volatile.Write(ref *(ushort*)(p + off), (ushort)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RawWrite32(byte* p)
    {
        for (long off = 0; off < Accesses * 4; off += 4)
        {
            Volatile.Write(ref *(uint*)(p + off), (uint)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RawWrite64(byte* p)
    {
        for (long off = 0; off < Accesses * 8; off += 8)
        {
            Volatile.Write(ref *(ulong*)(p + off), (ulong)off);
        }
    }

    // The same loops over MmioRegion.Span<T>: bounds checked once when the span is taken; the per-index
    // check is the JIT's span check, which it removes from a loop over 0 .. Length - 1.

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint SpanRead8(MmioRegion r)
    {
        uint sum = 0;
        var span = r.Span<byte>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            sum += span[i];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint SpanRead16(MmioRegion r)
    {
        uint sum = 0;
        var span = r.Span<ushort>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            sum += span[i];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint SpanRead32(MmioRegion r)
    {
        uint sum = 0;
        var span = r.Span<uint>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            sum += span[i];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong SpanRead64(MmioRegion r)
    {
        ulong sum = 0;
        var span = r.Span<ulong>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            sum += span[i];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SpanWrite8(MmioRegion r)
    {
        var span = r.Span<byte>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (byte)(i * 1);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SpanWrite16(MmioRegion r)
    {
        var span = r.Span<ushort>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (ushort)(i * 2);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SpanWrite32(MmioRegion r)
    {
        var span = r.Span<uint>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (uint)(i * 4);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SpanWrite64(MmioRegion r)
    {
        var span = r.Span<ulong>(0, Accesses);
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (ulong)(uint)i << 3; // zero-extended: one lea, like C's 64-bit counter
        }
    }

    // The same loops over an MmioView taken once per loop: the region's check with base and bounds in registers.

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint ViewRead8(MmioRegion r)
    {
        uint sum = 0;
        var view = r.View();
        for (long off = 0; off < Accesses * 1; off += 1)
        {
            sum += view.Read8(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint ViewRead16(MmioRegion r)
    {
        uint sum = 0;
        var view = r.View();
        for (long off = 0; off < Accesses * 2; off += 2)
        {
            sum += view.Read16(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint ViewRead32(MmioRegion r)
    {
        uint sum = 0;
        var view = r.View();
        for (long off = 0; off < Accesses * 4; off += 4)
        {
            sum += view.Read32(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong ViewRead64(MmioRegion r)
    {
        ulong sum = 0;
        var view = r.View();
        for (long off = 0; off < Accesses * 8; off += 8)
        {
            sum += view.Read64(off);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ViewWrite8(MmioRegion r)
    {
        var view = r.View();
        for (long off = 0; off < Accesses * 1; off += 1)
        {
            view.Write8(off, (byte)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ViewWrite16(MmioRegion r)
    {
        var view = r.View();
        for (long off = 0; off < Accesses * 2; off += 2)
        {
            view.Write16(off, (ushort)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ViewWrite32(MmioRegion r)
    {
        var view = r.View();
        for (long off = 0; off < Accesses * 4; off += 4)
        {
            view.Write32(off, (uint)off);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ViewWrite64(MmioRegion r)
    {
        var view = r.View();
        for (long off = 0; off < Accesses * 8; off += 8)
        {
            view.Write64(off, (ulong)off);
        }
    }
}
