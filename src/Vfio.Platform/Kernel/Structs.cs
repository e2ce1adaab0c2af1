using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vfio.Platform.Kernel;

/// <summary>Views a generated struct as the bytes an ioctl reads and fills, without unsafe code.</summary>
internal static class Structs
{
    public static Span<byte> Bytes<T>(ref T value)
        where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1));

    public static uint Size<T>()
        where T : unmanaged => (uint)Unsafe.SizeOf<T>();

    /// <summary>A new array holding <paramref name="value"/>'s bytes, as an ioctl argument.</summary>
    public static byte[] ToArray<T>(T value)
        where T : unmanaged => Bytes(ref value).ToArray();

    /// <summary>Reads a struct back from an ioctl argument.</summary>
    public static T Read<T>(byte[] buffer)
        where T : unmanaged => MemoryMarshal.Read<T>(buffer);

    public static T Read<T>(ReadOnlySpan<byte> buffer, int offset)
        where T : unmanaged => MemoryMarshal.Read<T>(buffer[offset..]);
}
