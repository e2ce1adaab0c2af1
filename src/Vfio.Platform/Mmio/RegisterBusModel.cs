namespace Vfio.Platform.Mmio;

/// <summary>
/// A base for a model of a device's registers (a test's stand-in for the hardware): override
/// <see cref="Read(int, int)"/> and <see cref="Write(int, int, ulong)"/> and the model is an
/// <see cref="IRegisterBus"/> a <see cref="RegisterBlock{TBlock, TBus}"/> binds over
/// (<see cref="RegisterBlock.Over{TBlock, TBus}"/>), so a driver written for the device runs against it
/// unchanged. The base checks every access first: the model sees only accesses inside <see cref="Length"/>,
/// aligned to their width, one call per access (a data port's repeated accesses are separate calls, in order).
/// </summary>
/// <example>
/// <code>
/// sealed class StatusModel() : RegisterBusModel(0x100)
/// {
///     protected override ulong Read(int offset, int width) => offset == 0x24 ? 0x1_0000u : 0;   // Card Inserted
///     protected override void Write(int offset, int width, ulong value) { }
/// }
/// var regs = RegisterBlock.Over&lt;SdhciBlock, StatusModel&gt;(new StatusModel());
/// </code>
/// </example>
/// <param name="length">Bytes the model answers for, from offset 0.</param>
public abstract class RegisterBusModel(int length) : IRegisterBus
{
    /// <inheritdoc/>
    public int Length { get; } = length >= 0 ? length : throw new ArgumentOutOfRangeException(nameof(length), length, "A model answers for 0 or more bytes.");

    /// <inheritdoc/>
    public byte Read8(int offset) => (byte)Read(Checked(offset, 1), 1);

    /// <inheritdoc/>
    public ushort Read16(int offset) => (ushort)Read(Checked(offset, 2), 2);

    /// <inheritdoc/>
    public uint Read32(int offset) => (uint)Read(Checked(offset, 4), 4);

    /// <inheritdoc/>
    public ulong Read64(int offset) => Read(Checked(offset, 8), 8);

    /// <inheritdoc/>
    public void Write8(int offset, byte value) => Write(Checked(offset, 1), 1, value);

    /// <inheritdoc/>
    public void Write16(int offset, ushort value) => Write(Checked(offset, 2), 2, value);

    /// <inheritdoc/>
    public void Write32(int offset, uint value) => Write(Checked(offset, 4), 4, value);

    /// <inheritdoc/>
    public void Write64(int offset, ulong value) => Write(Checked(offset, 8), 8, value);

    /// <inheritdoc/>
    public void ReadRepeated32(int offset, Span<uint> destination)
    {
        Checked(offset, 4);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (uint)Read(offset, 4);
        }
    }

    /// <inheritdoc/>
    public void WriteRepeated32(int offset, ReadOnlySpan<uint> source)
    {
        Checked(offset, 4);
        foreach (var value in source)
        {
            Write(offset, 4, value);
        }
    }

    /// <summary>One read of <paramref name="width"/> bytes at <paramref name="offset"/>, checked by the base.</summary>
    /// <param name="offset">Byte offset, inside <see cref="Length"/> and aligned to the width.</param>
    /// <param name="width">1, 2, 4 or 8.</param>
    /// <returns>The value, zero-extended.</returns>
    protected abstract ulong Read(int offset, int width);

    /// <summary>One write of <paramref name="width"/> bytes at <paramref name="offset"/>, checked by the base.</summary>
    /// <param name="offset">Byte offset, inside <see cref="Length"/> and aligned to the width.</param>
    /// <param name="width">1, 2, 4 or 8.</param>
    /// <param name="value">The value (only the low <paramref name="width"/> bytes are meaningful).</param>
    protected abstract void Write(int offset, int width, ulong value);

    private int Checked(int offset, int width)
    {
        if (offset < 0 || offset > Length - width || (offset & (width - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{GetType().Name}: a {width}-byte access at 0x{offset:x} is outside the model's 0x{Length:x} bytes or not aligned to its width.");
        }

        return offset;
    }
}
