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

    /// <summary>True once the buffer is unmapped: by <see cref="Dispose"/>, or by an unmap of the whole
    /// address space (<see cref="VfioContainer.UnmapAllDma"/>, <see cref="Iommufd.IoAddressSpace.UnmapAllDma"/>).</summary>
    public bool IsUnmapped => _unmapped;

    /// <summary>The kernel unmapped this mapping with the rest of its address space: nothing left to do.</summary>
    internal void MarkUnmapped() => _unmapped = true;

    /// <summary>Unmaps the buffer from the device (<c>VFIO_IOMMU_UNMAP_DMA</c> or <c>IOMMU_IOAS_UNMAP</c>).</summary>
    /// <exception cref="VfioException">The kernel refused the unmap: it still has the buffer mapped, so the
    /// mapping stays as it was (still listed by its container or address space, its IOVA reserved, the
    /// buffer's memory kept). Dispose again to retry; closing the container or address space drops it.</exception>
    public void Dispose()
    {
        if (IsUnmapped)
        {
            return;
        }

        _space.UnmapDma(this);
        _unmapped = true;
    }
}
