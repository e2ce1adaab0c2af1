using Vfio.Native;

namespace Vfio.Platform;

/// <summary>The IOMMU back-end a container uses.</summary>
public enum VfioIommuType
{
    /// <summary>None chosen yet: the container has no group.</summary>
    None = 0,

    /// <summary><c>VFIO_TYPE1_IOMMU</c>.</summary>
    Type1 = (int)VfioUapi.VFIO_TYPE1_IOMMU,

    /// <summary><c>VFIO_TYPE1v2_IOMMU</c>, preferred where the kernel has it.</summary>
    Type1v2 = (int)VfioUapi.VFIO_TYPE1v2_IOMMU,

    /// <summary><c>VFIO_NOIOMMU_IOMMU</c>: no isolation and no DMA mapping; only on explicit request.</summary>
    NoIommu = (int)VfioUapi.VFIO_NOIOMMU_IOMMU,
}
