namespace Vfio.Platform.Kernel;

/// <summary>One capability of a VFIO info chain: its id, version and where its bytes are in the buffer.</summary>
/// <param name="Id">The capability id (<c>VFIO_REGION_INFO_CAP_SPARSE_MMAP</c>...).</param>
/// <param name="Version">The capability's version.</param>
/// <param name="Offset">Offset of its <c>vfio_info_cap_header</c> in the info buffer.</param>
/// <param name="Length">Bytes from <paramref name="Offset"/> to the next capability or the end of the buffer.</param>
public readonly record struct VfioCapability(ushort Id, ushort Version, int Offset, int Length);
