using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vfio.Platform.Kernel;

/// <summary>Views a generated struct as the bytes an ioctl reads and fills, without unsafe code.</summary>
internal static class Structs
{
    /// <summary>Bytes to start an info query with a capability chain on the stack (region info, type1 IOMMU
    /// info): enough for the chains seen in practice; the kernel asks for more when it needs it.</summary>
    public const int InfoStackSize = 512;

    /// <summary>The bytes of <paramref name="value"/> itself (a local or a field), as the ioctl argument: what
    /// the kernel writes back lands in <paramref name="value"/>.</summary>
    public static Span<byte> Bytes<T>(ref T value)
        where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1));

    public static uint Size<T>()
        where T : unmanaged => (uint)Unsafe.SizeOf<T>();

    /// <summary>Reads a struct from a buffer the kernel filled, at <paramref name="offset"/>.</summary>
    public static T Read<T>(ReadOnlySpan<byte> buffer, int offset)
        where T : unmanaged => MemoryMarshal.Read<T>(buffer[offset..]);
}
