namespace Vfio.Native;

/// <summary>Where <c>struct iommu_ioas_iova_ranges</c> holds its user pointer (<c>allowed_iovas</c>, the
/// address of the range array), for <see cref="Libc.ioctl(int, nuint, Span{byte}, int, Span{byte})"/>, which
/// writes it while the array is pinned. Written by hand beside the generated struct; Vfio.Native.Tests checks
/// it against the struct's layout.</summary>
public partial struct iommu_ioas_iova_ranges
{
    /// <summary>The byte offset of <see cref="allowed_iovas"/>. (Not named <c>allowed_iovas_Offset</c>: that suffix marks a flexible array member's offset.)</summary>
    public const int AllowedIovasOffset = 16;
}
