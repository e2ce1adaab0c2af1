using Vfio.Native;

namespace Vfio.Platform;

/// <summary>What <c>VFIO_DEVICE_GET_REGION_INFO</c> says about one region of a device.</summary>
/// <param name="Index">The region index (a PCI BAR number, or the platform device's reg entry).</param>
/// <param name="Flags">Raw <c>VFIO_REGION_INFO_FLAG_*</c>.</param>
/// <param name="Size">Region size in bytes.</param>
/// <param name="Offset">Offset of the region in the device file (for mmap and pread/pwrite).</param>
/// <param name="SparseAreas">Mappable areas when the region is only partly mappable, else null.</param>
/// <param name="Type">The region type and subtype (<c>VFIO_REGION_INFO_CAP_TYPE</c>), else null.</param>
/// <param name="Capabilities">Every capability of the chain, including unknown ones.</param>
public sealed record VfioRegionInfo(
    int Index,
    uint Flags,
    ulong Size,
    ulong Offset,
    IReadOnlyList<VfioSparseArea>? SparseAreas,
    (uint Type, uint Subtype)? Type,
    IReadOnlyList<Kernel.VfioCapability> Capabilities)
{
    /// <summary>The region can be read.</summary>
    public bool CanRead => (Flags & VfioUapi.VFIO_REGION_INFO_FLAG_READ) != 0;

    /// <summary>The region can be written.</summary>
    public bool CanWrite => (Flags & VfioUapi.VFIO_REGION_INFO_FLAG_WRITE) != 0;

    /// <summary>The region (or its sparse areas) can be mmapped.</summary>
    public bool CanMmap => (Flags & VfioUapi.VFIO_REGION_INFO_FLAG_MMAP) != 0;
}
