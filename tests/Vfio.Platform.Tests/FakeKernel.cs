using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Tests;

/// <summary>A <see cref="FakeSyscalls"/> that behaves like a healthy kernel with one platform device, and
/// counts opens against closes so every error path is checked for leaks. Tests then make one call fail.</summary>
internal sealed class FakeKernel
{
    public const int ContainerFd = 100, GroupFd = 101, DeviceFd = 102, EventFd = 103;

    private int _open;

    public FakeKernel()
    {
        Sys.OnOpen("/dev/vfio/vfio", () => Opened(ContainerFd));
        Sys.OnOpen("/dev/vfio/7", () => Opened(GroupFd));
        Sys.OnClose(_ =>
        {
            Interlocked.Decrement(ref _open);
            return 0;
        });
        Sys.OnIoctl(ContainerFd, VfioUapi.VFIO_GET_API_VERSION, VfioUapi.VFIO_API_VERSION);
        Sys.OnIoctl(ContainerFd, VfioUapi.VFIO_CHECK_EXTENSION, 1);
        Sys.OnIoctl(ContainerFd, VfioUapi.VFIO_SET_IOMMU, 0);
        Sys.OnIoctl(GroupFd, VfioUapi.VFIO_GROUP_GET_STATUS, argument =>
        {
            var status = new vfio_group_status { argsz = 8, flags = VfioUapi.VFIO_GROUP_FLAGS_VIABLE | VfioUapi.VFIO_GROUP_FLAGS_CONTAINER_SET };
            Structs.Bytes(ref status).CopyTo(argument);
            return 0;
        });
        Sys.OnIoctl(GroupFd, VfioUapi.VFIO_GROUP_SET_CONTAINER, 0);
        Sys.OnIoctl(GroupFd, VfioUapi.VFIO_GROUP_GET_DEVICE_FD, _ => Opened(DeviceFd));
        Sys.OnIoctl(DeviceFd, VfioUapi.VFIO_DEVICE_GET_INFO, argument =>
        {
            var info = new vfio_device_info { argsz = 24, flags = VfioUapi.VFIO_DEVICE_FLAGS_PLATFORM, num_regions = 1, num_irqs = 1 };
            Structs.Bytes(ref info).CopyTo(argument);
            return 0;
        });
        Sys.OnIoctl(DeviceFd, VfioUapi.VFIO_DEVICE_GET_IRQ_INFO, argument =>
        {
            var info = new vfio_irq_info { argsz = 16, flags = VfioUapi.VFIO_IRQ_INFO_EVENTFD | VfioUapi.VFIO_IRQ_INFO_MASKABLE | VfioUapi.VFIO_IRQ_INFO_AUTOMASKED, count = 1 };
            Structs.Bytes(ref info).CopyTo(argument);
            return 0;
        });
        Sys.OnEventFd(() => Opened(EventFd));
        Sys.OnIoctl(DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, 0);
    }

    public FakeSyscalls Sys { get; } = new();

    /// <summary>Descriptors opened and not closed.</summary>
    public int OpenDescriptors => Volatile.Read(ref _open);

    public VfioContainer OpenContainer(bool allowNoIommu = false) =>
        VfioContainer.Open(Sys, new VfioContainerOptions { AllowNoIommu = allowNoIommu, GroupDirectory = "/dev/vfio" });

    private int Opened(int fd)
    {
        Interlocked.Increment(ref _open);
        return fd;
    }
}
