namespace Vfio.Platform.Dma;

/// <summary>What <c>VFIO_IOMMU_GET_INFO</c> says about a type1 container.</summary>
/// <param name="PageSizes">Bitmap of the IOMMU page sizes (bit n set: 2^n bytes).</param>
/// <param name="IovaRanges">The IOVA ranges the IOMMU accepts (inclusive), or one range of everything
/// when the kernel does not report them.</param>
/// <param name="DmaMappingsAvailable">How many more mappings the kernel allows (<c>dma_entry_limit</c>), if reported.</param>
public sealed record VfioIommuInfo(ulong PageSizes, IReadOnlyList<(ulong Start, ulong End)> IovaRanges, uint? DmaMappingsAvailable)
{
    /// <summary>The smallest IOMMU page size: mappings are aligned to it.</summary>
    public ulong MinimumPageSize => PageSizes == 0 ? 4096 : PageSizes & (~PageSizes + 1);
}
