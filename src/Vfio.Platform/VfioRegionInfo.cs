using Vfio.Native;

namespace Vfio.Platform;

/// <summary>A part of a region the kernel lets userspace mmap (<c>VFIO_REGION_INFO_CAP_SPARSE_MMAP</c>).</summary>
/// <param name="Offset">Offset inside the region.</param>
/// <param name="Size">Length in bytes.</param>
public readonly record struct VfioSparseArea(ulong Offset, ulong Size);

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

/// <summary>What <c>VFIO_DEVICE_GET_IRQ_INFO</c> says about one interrupt index.</summary>
/// <param name="Index">The IRQ index (platform: the device's interrupt; PCI: INTx, MSI, MSI-X, ERR, REQ).</param>
/// <param name="Flags">Raw <c>VFIO_IRQ_INFO_*</c>.</param>
/// <param name="Count">How many vectors the index has.</param>
public sealed record VfioIrqInfo(int Index, uint Flags, uint Count)
{
    /// <summary>Can be signalled through an eventfd.</summary>
    public bool SupportsEventFd => (Flags & VfioUapi.VFIO_IRQ_INFO_EVENTFD) != 0;

    /// <summary>Can be masked and unmasked.</summary>
    public bool IsMaskable => (Flags & VfioUapi.VFIO_IRQ_INFO_MASKABLE) != 0;

    /// <summary>The kernel masks it when it fires (level-triggered): the handler clears the cause in
    /// the device, then unmasks.</summary>
    public bool IsAutomasked => (Flags & VfioUapi.VFIO_IRQ_INFO_AUTOMASKED) != 0;
}
