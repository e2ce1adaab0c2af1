using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vfio.Native;

/// <summary>Safe access to a C flexible array member (<c>__u8 data[]</c>) in a buffer that holds the
/// whole variable-length struct: the elements are a span over the buffer, never past its end.</summary>
public static class FlexibleArray
{
    /// <summary>The <paramref name="count"/> elements of type <typeparamref name="T"/> that start
    /// <paramref name="offset"/> bytes into <paramref name="buffer"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The buffer cannot hold that many elements.</exception>
    public static Span<T> Get<T>(Span<byte> buffer, int offset, int count)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var bytes = (long)count * Unsafe.SizeOf<T>();
        if (offset > buffer.Length || bytes > buffer.Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"{count} elements of {Unsafe.SizeOf<T>()} bytes at offset {offset} do not fit in a buffer of {buffer.Length} bytes");
        }

        return MemoryMarshal.Cast<byte, T>(buffer.Slice(offset, (int)bytes));
    }
}
