// A program a user would write after `dotnet add package Vfio.Platform`: it is copied into a fresh
// project outside the repository, restored from the local feed the tests packed, published for a
// guest of the rig and run there. Arguments: the group node (from rig-bind-vfio) and the device.
using Vfio.Platform;

var (groupPath, deviceName) = (args[0], args[1]);
var noIommu = Path.GetFileName(groupPath).StartsWith("noiommu-", StringComparison.Ordinal);
using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
using var group = container.OpenGroup(groupPath);
using var device = group.OpenDevice(deviceName);
using var registers = device.MapRegion(0);

// SDHCI: capabilities at 0x40 (two 32-bit registers), host controller version at 0xFE.
var capabilities = registers.Read32(0x40) | ((ulong)registers.Read32(0x44) << 32);
Console.WriteLine($"iommu={container.IommuType}");
Console.WriteLine($"caps=0x{capabilities:x}");
Console.WriteLine($"version=0x{registers.Read16(0xFE):x4}");
Console.WriteLine($"assembly={typeof(VfioContainer).Assembly.GetName().Version}");
