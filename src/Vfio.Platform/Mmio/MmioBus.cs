namespace Vfio.Platform.Mmio;

/// <summary>
/// The mapped part of an <see cref="MmioRegion"/> a register block is bound at, as an
/// <see cref="IRegisterBus"/>: from <see cref="MmioRegion.Bind{TBlock}"/> (<see cref="RegisterBlock{TBlock, TBus}.Bus"/>).
/// A <see cref="RegisterBlock{TBlock, TBus}"/> over it reaches the device through the mapping directly (one volatile
/// load or store per named access, no check); the bus's own offset-based methods, for dumps and pokes, check each
/// access against the region as the region's <c>Read32</c>/<c>Write32</c> do (they are those, shifted by where the
/// block starts).
/// </summary>
public readonly unsafe struct MmioBus : IRegisterBus
{
    private readonly MmioRegion? _region;
    private readonly long _offset;
    private readonly int _length;

    internal MmioBus(MmioRegion region, long offset, byte* address, int length, long mappedLength)
    {
        _region = region;
        _offset = offset;
        Address = address;
        _length = length;
        MappedLength = mappedLength;
    }

    /// <summary>The region (null for a default bus).</summary>
    public MmioRegion? Region => _region;

    /// <summary>Where the bus starts in the region, in bytes.</summary>
    public long Offset => _offset;

    /// <summary>Bytes from <see cref="Offset"/> to the end of the region (at most <see cref="int.MaxValue"/>).</summary>
    public int Length => _length;

    /// <summary>The mapped address of <see cref="Offset"/>: what a bound block's accesses add their offsets to.</summary>
    internal byte* Address { get; }

    /// <summary>Bytes mapped without a gap from <see cref="Address"/>: what a block bound over this bus may span
    /// (<see cref="RegisterBlock.Over{TBlock, TBus}"/> checks it, so a bus bound for a small block cannot carry a larger one
    /// into unmapped memory).</summary>
    internal long MappedLength { get; }

    /// <inheritdoc/>
    public byte Read8(int offset) => RegionFor(offset).Read8(_offset + offset);

    /// <inheritdoc/>
    public ushort Read16(int offset) => RegionFor(offset).Read16(_offset + offset);

    /// <inheritdoc/>
    public uint Read32(int offset) => RegionFor(offset).Read32(_offset + offset);

    /// <inheritdoc/>
    public ulong Read64(int offset) => RegionFor(offset).Read64(_offset + offset);

    /// <inheritdoc/>
    public void Write8(int offset, byte value) => RegionFor(offset).Write8(_offset + offset, value);

    /// <inheritdoc/>
    public void Write16(int offset, ushort value) => RegionFor(offset).Write16(_offset + offset, value);

    /// <inheritdoc/>
    public void Write32(int offset, uint value) => RegionFor(offset).Write32(_offset + offset, value);

    /// <inheritdoc/>
    public void Write64(int offset, ulong value) => RegionFor(offset).Write64(_offset + offset, value);

    /// <inheritdoc/>
    public void ReadRepeated32(int offset, Span<uint> destination) => RegionFor(offset).ReadRepeated32(_offset + offset, destination);

    /// <inheritdoc/>
    public void WriteRepeated32(int offset, ReadOnlySpan<uint> source) => RegionFor(offset).WriteRepeated32(_offset + offset, source);

    private MmioRegion RegionFor(int offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return _region ?? throw new InvalidOperationException("This bus is not bound to a region (a default MmioBus).");
    }
}
