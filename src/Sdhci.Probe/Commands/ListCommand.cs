using System.CommandLine;

namespace Sdhci.Probe.Commands;

/// <summary><c>sdhci-probe list</c>.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var sysfs = CommonOptions.SysfsRoot();
        var command = new Command("list", "List the SD host controllers (device tree sdhci/arasan, PCI class 0x0805) with their driver and IOMMU group.") { json, sysfs };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var controllers = ControllerInfo.Discover(result.GetValue(sysfs)!);
            if (result.GetValue(json))
            {
                CommonOptions.WriteJson(controllers, ProbeJson.Default.ListControllerInfo);
                return ExitCodes.Ok;
            }

            if (controllers.Count == 0)
            {
                Console.WriteLine("No SD host controllers found.");
                return ExitCodes.Ok;
            }

            Console.WriteLine($"{"DEVICE",-16} {"BUS",-8} {"DRIVER",-14} {"GROUP",-6} {"VFIO",-5} IDENTITY");
            foreach (var c in controllers)
            {
                Console.WriteLine($"{c.Name,-16} {c.Bus,-8} {c.Driver ?? "-",-14} {c.IommuGroup?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",-6} {(c.ReadyForVfio ? "yes" : "no"),-5} {c.Identity}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
