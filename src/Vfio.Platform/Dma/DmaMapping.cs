namespace Vfio.Platform.Dma;

/// <summary>A buffer mapped into the device's I/O address space: the device reaches
/// <see cref="DmaBuffer"/> at <see cref="Iova"/>. Disposing unmaps it.</summary>
public sealed class DmaMapping : IDisposable
{
    private readonly IDmaUnmapper _space;
    private bool _unmapped;

    internal DmaMapping(IDmaUnmapper space, DmaBuffer buffer, ulong iova, bool allocated)
    {
        _space = space;
        Buffer = buffer;
        Iova = iova;
        Allocated = allocated;
    }

    internal bool Allocated { get; }

    /// <summary>The mapped buffer.</summary>
    public DmaBuffer Buffer { get; }

    /// <summary>The address the device uses.</summary>
    public ulong Iova { get; }

    /// <summary>Length in bytes.</summary>
    public long Length => Buffer.Length;

    /// <summary>Unmaps the buffer from the device (<c>VFIO_IOMMU_UNMAP_DMA</c> or <c>IOMMU_IOAS_UNMAP</c>).</summary>
    /// <exception cref="VfioException">The kernel refused the unmap: it still has the buffer mapped, so the
    /// mapping stays as it was (still listed by its container or address space, its IOVA reserved, the
    /// buffer's memory kept). Dispose again to retry; closing the container or address space drops it.</exception>
    public void Dispose()
    {
        if (_unmapped)
        {
            return;
        }

        _space.UnmapDma(this);
        _unmapped = true;
    }
}
