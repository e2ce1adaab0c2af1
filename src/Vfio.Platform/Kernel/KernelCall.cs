namespace Vfio.Platform.Kernel;

/// <summary>The kernel calls whose refusals the library explains (<see cref="ErrnoHints"/>).</summary>
internal enum KernelCall
{
    /// <summary>open(/dev/vfio/vfio).</summary>
    OpenContainer,

    /// <summary>open(/dev/vfio/N or noiommu-N).</summary>
    OpenGroup,

    /// <summary>VFIO_GROUP_GET_DEVICE_FD. Arguments: the group node, the device.</summary>
    GetDeviceFd,

    /// <summary>open(/dev/iommu).</summary>
    OpenIommufd,

    /// <summary>open(/dev/vfio/devices/vfioN). Arguments: the cdev, the device.</summary>
    OpenCdev,

    /// <summary>VFIO_DEVICE_BIND_IOMMUFD.</summary>
    BindIommufd,

    /// <summary>VFIO_DEVICE_SET_IRQS with eventfds.</summary>
    SetIrqsEventFd,

    /// <summary>VFIO_IOMMU_MAP_DMA (type1).</summary>
    MapDmaType1,

    /// <summary>IOMMU_IOAS_MAP (iommufd).</summary>
    MapDmaIoas,
}
