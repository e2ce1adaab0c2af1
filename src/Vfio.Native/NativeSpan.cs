namespace Vfio.Native;

/// <summary>The one way from an address the kernel gave us (an mmap) to a span, so code outside
/// Vfio.Native needs no unsafe blocks. The name says what the compiler cannot check: the caller
/// vouches that the memory is mapped, at least <c>length</c> bytes long, and outlives the span.</summary>
public static unsafe class NativeSpan
{
    /// <summary>A span over <paramref name="length"/> bytes at <paramref name="address"/>: memory safety is
    /// the caller's, as with an <c>unsafe</c> block.</summary>
    public static Span<byte> UnsafeCreate(nint address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return address == 0 && length > 0 ? throw new ArgumentNullException(nameof(address)) : new Span<byte>((void*)address, length);
    }
}
