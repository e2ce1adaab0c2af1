using System.Runtime.CompilerServices;

namespace Vfio.Platform.Mmio;

/// <summary>
/// A run of registers of one width in a mapped <see cref="MmioRegion"/>, indexed like an array: from
/// <see cref="MmioRegion.Span{T}"/>. The region's bounds and the alignment are checked once, when the
/// span is taken; each access is then one volatile load or store with the index checked against
/// <see cref="Length"/>. That check is the one the JIT removes from a loop over
/// <c>0 .. Length - 1</c>, so such a loop costs what the same loop costs in C.
/// </summary>
/// <typeparam name="T"><see cref="byte"/>, <see cref="ushort"/>, <see cref="uint"/> or <see cref="ulong"/>: the register width.</typeparam>
/// <remarks>An index outside <c>0 .. Length - 1</c> throws <see cref="IndexOutOfRangeException"/>. A span
/// must not outlive its region (like a <see cref="Span{T}"/> over memory freed on dispose): being a
/// <c>ref struct</c> it cannot be stored in a field or captured, which keeps it to the scope where it
/// was taken. Only mapped memory has a span; a region reached through pread/pwrite refuses.</remarks>
/// <example>
/// <code>
/// var responses = regs.Span&lt;uint&gt;(0x10, 4);   // SDHCI Response 0..3
/// for (var i = 0; i &lt; responses.Length; i++) words[i] = responses[i];
/// </code>
/// </example>
public readonly ref struct MmioSpan<T>
    where T : unmanaged
{
    private readonly Span<T> _items;

    internal MmioSpan(Span<T> items) => _items = items;

    /// <summary>The number of registers.</summary>
    public int Length => _items.Length;

    /// <summary>Whether the span holds no register.</summary>
    public bool IsEmpty => _items.IsEmpty;

    /// <summary>The register at <paramref name="index"/>: one volatile load (get) or store (set).</summary>
    /// <param name="index">0 to <see cref="Length"/> - 1.</param>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside the span.</exception>
    public T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ref var item = ref _items[index];
            if (typeof(T) == typeof(byte))
            {
                var value = Volatile.Read(ref Unsafe.As<T, byte>(ref item));
                return Unsafe.As<byte, T>(ref value);
            }

            if (typeof(T) == typeof(ushort))
            {
                var value = Volatile.Read(ref Unsafe.As<T, ushort>(ref item));
                return Unsafe.As<ushort, T>(ref value);
            }

            if (typeof(T) == typeof(uint))
            {
                var value = Volatile.Read(ref Unsafe.As<T, uint>(ref item));
                return Unsafe.As<uint, T>(ref value);
            }

            var wide = Volatile.Read(ref Unsafe.As<T, ulong>(ref item));
            return Unsafe.As<ulong, T>(ref wide);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set
        {
            ref var item = ref _items[index];
            if (typeof(T) == typeof(byte))
                Volatile.Write(ref Unsafe.As<T, byte>(ref item), Unsafe.As<T, byte>(ref value));
            else if (typeof(T) == typeof(ushort))
                Volatile.Write(ref Unsafe.As<T, ushort>(ref item), Unsafe.As<T, ushort>(ref value));
            else if (typeof(T) == typeof(uint))
                Volatile.Write(ref Unsafe.As<T, uint>(ref item), Unsafe.As<T, uint>(ref value));
            else
                Volatile.Write(ref Unsafe.As<T, ulong>(ref item), Unsafe.As<T, ulong>(ref value));
        }
    }

    /// <summary>A part of this span: registers <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/> - 1.</summary>
    /// <param name="start">The first register of the part.</param>
    /// <param name="length">How many registers.</param>
    /// <returns>The part.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The part is not inside this span.</exception>
    public MmioSpan<T> Slice(int start, int length) => new(_items.Slice(start, length));

    /// <summary>Reads every register, in order, one volatile load each, into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void CopyTo(Span<T> destination)
    {
        if (destination.Length < _items.Length)
            throw new ArgumentException($"The destination holds {destination.Length} elements; the span has {_items.Length}.", nameof(destination));
        for (var i = 0; i < _items.Length; i++)
            destination[i] = this[i];
    }
}
