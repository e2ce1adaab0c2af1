namespace Vfio.Platform.Handover;

/// <summary>How the device handed over was opened, which says which descriptors come with it.</summary>
public enum VfioHandoverKind
{
    /// <summary>Through its group in a type1 or no-IOMMU container: the container, group and device descriptors.</summary>
    Group = 1,

    /// <summary>Through its cdev bound to an iommufd: the iommufd and device descriptors, and the IOAS id.</summary>
    Iommufd = 2,
}
