using System.Globalization;
using Vfio.Native;

namespace Vfio.Platform.Kernel;

/// <summary>
/// What a person can do about an errno, per kernel call: the one table of the library's advice (the role
/// dotnet/runtime's Interop.IOErrors plays), so a hint is written once and every call site that meets the
/// same refusal says the same thing. <c>{0}</c>, <c>{1}</c> in a hint are the call's arguments (see
/// <see cref="KernelCall"/>).
/// </summary>
internal static class ErrnoHints
{
    private const string Permission = "Permission denied: run as root or give your user {0} (chown, or a udev rule).";
    private const string Pinning = "Pinning the pages failed: raise the locked-memory limit (ulimit -l).";
    private const string Mapped = "That IOVA range is mapped already.";

    private static readonly Dictionary<(KernelCall, int), string> Table = new()
    {
        [(KernelCall.OpenContainer, Errno.ENOENT)] = "The kernel has no VFIO: load the vfio module (modprobe vfio) or build it in.",
        [(KernelCall.OpenContainer, Errno.EACCES)] = Permission,
        [(KernelCall.OpenContainer, Errno.EPERM)] = Permission,

        [(KernelCall.OpenGroup, Errno.ENOENT)] = "No such VFIO group: is the device bound to vfio-platform or vfio-pci (VfioDeviceBinding.Bind)?",
        [(KernelCall.OpenGroup, Errno.EACCES)] = Permission,
        [(KernelCall.OpenGroup, Errno.EPERM)] = Permission,
        [(KernelCall.OpenGroup, Errno.EBUSY)] = "The group is already open, by another process or by this one.",

        [(KernelCall.GetDeviceFd, Errno.ENODEV)] = "{0} has no device named {1}.",
        [(KernelCall.GetDeviceFd, Errno.EINVAL)] = "{0} has no device named {1}.",
        [(KernelCall.GetDeviceFd, Errno.EBUSY)] = "The device is already open (by this process or another).",
        [(KernelCall.GetDeviceFd, Errno.EPERM)] = "The group has no IOMMU set: attach it to a container first.",

        [(KernelCall.OpenIommufd, Errno.ENOENT)] = "This kernel has no iommufd (CONFIG_IOMMUFD); use VfioContainer (the group interface) instead.",
        [(KernelCall.OpenIommufd, Errno.EACCES)] = Permission,
        [(KernelCall.OpenIommufd, Errno.EPERM)] = Permission,

        [(KernelCall.OpenCdev, Errno.ENOENT)] = "No {0}: is devtmpfs mounted, and is {1} still bound to VFIO?",
        [(KernelCall.OpenCdev, Errno.EBUSY)] = "{1} is open already, through its cdev or its group (one owner at a time).",
        [(KernelCall.OpenCdev, Errno.EACCES)] = Permission,
        [(KernelCall.OpenCdev, Errno.EPERM)] = Permission,

        [(KernelCall.BindIommufd, Errno.EBUSY)] = "The device is in use through its group (VFIO_GROUP_GET_DEVICE_FD).",
        [(KernelCall.BindIommufd, Errno.EINVAL)] = "The device is bound already through another descriptor of its cdev: one bound open per device.",
        [(KernelCall.BindIommufd, Errno.EPERM)] = "Binding needs CAP_SYS_RAWIO for a no-IOMMU device, or the group is not viable.",

        [(KernelCall.SetIrqsEventFd, Errno.EINVAL)] =
            "On a host without interrupt remapping, vfio_iommu_type1.allow_unsafe_interrupts=1 may be needed (VfioBindOptions.AllowUnsafeInterrupts when binding).",

        [(KernelCall.MapDmaType1, Errno.EEXIST)] = Mapped,
        [(KernelCall.MapDmaType1, Errno.ENOSPC)] = "The kernel's limit of DMA mappings is reached (vfio_iommu_type1.dma_entry_limit).",
        [(KernelCall.MapDmaType1, Errno.ENOMEM)] = Pinning,

        [(KernelCall.MapDmaIoas, Errno.EEXIST)] = Mapped,
        [(KernelCall.MapDmaIoas, Errno.ENOSPC)] = "No room for the mapping in the allowed IOVA ranges.",
        [(KernelCall.MapDmaIoas, Errno.ENOMEM)] = Pinning,
        [(KernelCall.MapDmaIoas, Errno.EINVAL)] = "The IOVA or length is not aligned to the IOMMU's page size, or falls in a reserved range.",
    };

    /// <summary>The hint for <paramref name="errno"/> from <paramref name="call"/>, its placeholders filled from
    /// <paramref name="arguments"/>; null when the library has nothing to add to the errno's own text.</summary>
    public static string? For(KernelCall call, int errno, params ReadOnlySpan<object?> arguments) =>
        Table.TryGetValue((call, errno), out var hint) ? string.Format(CultureInfo.InvariantCulture, hint, arguments) : null;
}
