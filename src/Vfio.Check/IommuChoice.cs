namespace Vfio.Check;

/// <summary>The IOMMU back-end to open the device through; <see cref="Auto"/> takes the group's own kind.</summary>
internal enum IommuChoice
{
    Auto,
    Type1,
    Iommufd,
    NoIommu,
}
