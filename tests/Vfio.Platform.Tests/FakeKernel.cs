using NSubstitute;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Tests;

/// <summary>An NSubstitute <see cref="ISyscalls"/> that behaves like a healthy kernel with one
/// platform device, and counts opens against closes so every error path is checked for leaks.
/// Tests then make one call fail.</summary>
internal sealed class FakeKernel
{
    public const int ContainerFd = 100, GroupFd = 101, DeviceFd = 102, EventFd = 103;

    private int _open;

    public FakeKernel()
    {
        Sys = Substitute.For<ISyscalls>();
        Sys.Open("/dev/vfio/vfio", Arg.Any<int>()).Returns(_ => Opened(ContainerFd));
        Sys.Open("/dev/vfio/7", Arg.Any<int>()).Returns(_ => Opened(GroupFd));
        Sys.Close(Arg.Any<int>()).Returns(_ =>
        {
            _open--;
            return 0;
        });
        Sys.Ioctl(ContainerFd, VfioUapi.VFIO_GET_API_VERSION, Arg.Any<nuint>()).Returns(VfioUapi.VFIO_API_VERSION);
        Sys.Ioctl(ContainerFd, VfioUapi.VFIO_CHECK_EXTENSION, Arg.Any<nuint>()).Returns(1);
        Sys.Ioctl(ContainerFd, VfioUapi.VFIO_SET_IOMMU, Arg.Any<nuint>()).Returns(0);
        Sys.Ioctl(GroupFd, VfioUapi.VFIO_GROUP_GET_STATUS, Arg.Any<byte[]>()).Returns(call =>
        {
            var status = new vfio_group_status { argsz = 8, flags = VfioUapi.VFIO_GROUP_FLAGS_VIABLE | VfioUapi.VFIO_GROUP_FLAGS_CONTAINER_SET };
            Structs.Bytes(ref status).CopyTo(call.Arg<byte[]>().AsSpan());
            return 0;
        });
        Sys.Ioctl(GroupFd, VfioUapi.VFIO_GROUP_SET_CONTAINER, Arg.Any<byte[]>()).Returns(0);
        Sys.Ioctl(GroupFd, VfioUapi.VFIO_GROUP_GET_DEVICE_FD, Arg.Any<byte[]>()).Returns(_ => Opened(DeviceFd));
        Sys.Ioctl(DeviceFd, VfioUapi.VFIO_DEVICE_GET_INFO, Arg.Any<byte[]>()).Returns(call =>
        {
            var info = new vfio_device_info { argsz = 24, flags = VfioUapi.VFIO_DEVICE_FLAGS_PLATFORM, num_regions = 1, num_irqs = 1 };
            Structs.Bytes(ref info).CopyTo(call.Arg<byte[]>().AsSpan());
            return 0;
        });
        Sys.Ioctl(DeviceFd, VfioUapi.VFIO_DEVICE_GET_IRQ_INFO, Arg.Any<byte[]>()).Returns(call =>
        {
            var info = new vfio_irq_info { argsz = 16, flags = VfioUapi.VFIO_IRQ_INFO_EVENTFD | VfioUapi.VFIO_IRQ_INFO_MASKABLE | VfioUapi.VFIO_IRQ_INFO_AUTOMASKED, count = 1 };
            Structs.Bytes(ref info).CopyTo(call.Arg<byte[]>().AsSpan());
            return 0;
        });
        Sys.EventFd(Arg.Any<uint>(), Arg.Any<int>()).Returns(_ => Opened(EventFd));
        Sys.Ioctl(DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, Arg.Any<byte[]>()).Returns(0);
    }

    public ISyscalls Sys { get; }

    /// <summary>Descriptors opened and not closed.</summary>
    public int OpenDescriptors => _open;

    public VfioContainer OpenContainer(bool allowNoIommu = false) =>
        VfioContainer.Open(Sys, new VfioContainerOptions { AllowNoIommu = allowNoIommu, GroupDirectory = "/dev/vfio" });

    private int Opened(int fd)
    {
        _open++;
        return fd;
    }
}
