namespace Vfio.Platform;

/// <summary>A part of a region the kernel lets userspace mmap (<c>VFIO_REGION_INFO_CAP_SPARSE_MMAP</c>).</summary>
/// <param name="Offset">Offset inside the region.</param>
/// <param name="Size">Length in bytes.</param>
public readonly record struct VfioSparseArea(ulong Offset, ulong Size);
