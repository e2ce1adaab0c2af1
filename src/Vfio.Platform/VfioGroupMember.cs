namespace Vfio.Platform;

/// <summary>A device in an IOMMU group and the driver it is bound to, as sysfs says
/// (<see cref="VfioGroup.MembersOf"/>). A group is viable only while every member is bound to a VFIO
/// driver or to none.</summary>
/// <param name="Name">The device's sysfs name (<c>ff170000.mmc</c>, <c>0000:00:01.0</c>).</param>
/// <param name="Driver">The bound driver, or null.</param>
public sealed record VfioGroupMember(string Name, string? Driver);
