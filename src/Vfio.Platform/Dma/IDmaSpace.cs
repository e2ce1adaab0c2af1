namespace Vfio.Platform.Dma;

/// <summary>An I/O address space devices do DMA through: a type1 <see cref="VfioContainer"/> or an
/// iommufd <see cref="Iommufd.IoAddressSpace"/>. Code that only maps buffers does not need to know which
/// (<see cref="VfioDevice.DmaSpace"/> gives the device's).</summary>
/// <example>
/// <code>
/// var space = device.DmaSpace ?? throw new InvalidOperationException("no-IOMMU: no DMA mapping");
/// using var buffer = DmaBuffer.Allocate(64 * 1024);
/// using var mapping = space.MapDma(buffer);
/// regs.Write32(0x00, (uint)mapping.Iova); // give the device the IOVA, never the virtual address
/// </code>
/// </example>
public interface IDmaSpace
{
    /// <summary>Page sizes and the IOVA ranges the IOMMU can translate.</summary>
    /// <returns>The IOMMU's properties for this address space.</returns>
    VfioIommuInfo GetIommuInfo();

    /// <summary>Maps <paramref name="buffer"/> so the device reaches it at an I/O virtual address: at
    /// <paramref name="iova"/>, or at one chosen inside the IOMMU's ranges. The mapping lasts until it is
    /// disposed; the buffer cannot be freed before that.</summary>
    /// <param name="buffer">Page-aligned pinned memory.</param>
    /// <param name="iova">A fixed I/O virtual address, page-aligned; null to have one chosen.</param>
    /// <param name="deviceWrites">False to map the buffer read-only for the device.</param>
    /// <returns>The mapping; dispose it to unmap.</returns>
    DmaMapping MapDma(DmaBuffer buffer, ulong? iova = null, bool deviceWrites = true);
}
