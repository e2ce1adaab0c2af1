using Vfio.Platform.Dma;
using Vfio.Platform.Kernel;

namespace Vfio.Platform;

/// <summary>Whoever opened a device and closes it: a group (legacy container interface) or an iommufd
/// address space (device cdev interface).</summary>
internal interface IVfioDeviceOwner
{
    ISyscalls Sys { get; }

    IDmaSpace? DmaSpace { get; }

    void Forget(VfioDevice device);
}
