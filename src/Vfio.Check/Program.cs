using System.CommandLine;
using System.Text.Json;
using Vfio.Check;
using Vfio.Native;

// vfio-check: does VFIO work for this device? Exit 0 when no case failed, 1 when one did, 2 for a wrong
// command line, 4 when the device is not ready (no such device, not bound to a VFIO driver).
const int Ok = 0, Failed = 1, Usage = 2, NotReady = 4;

var device = new Argument<string>("device") { Description = "The device's sysfs name, bound to vfio-pci or vfio-platform: 0000:00:01.0 (PCI) or ff170000.mmc (platform)." };
var iommu = new Option<string?>("--iommu") { Description = "Open the device through type1 (a VFIO container, type1v2 where offered), iommufd (its cdev) or noiommu. Default: noiommu for a no-IOMMU group, else type1." };
iommu.AcceptOnlyFromAmong("type1", "iommufd", "noiommu");
var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
var reset = new Option<bool>("--reset") { Description = "Run VFIO_DEVICE_RESET when the device offers it. It resets the device, so it is off by default." };
var root = new RootCommand("Open a device bound to VFIO the way Vfio.Platform does and report, case by case, what works: group, IOMMU back-ends, regions, interrupts, software-triggered interrupts, IOVA ranges, DMA mapping, reset, config space.")
{
    device, iommu, json, reset,
};
root.SetAction(result =>
{
    var name = result.GetValue(device)!;
    var choice = result.GetValue(iommu) switch
    {
        "type1" => IommuChoice.Type1,
        "iommufd" => IommuChoice.Iommufd,
        "noiommu" => IommuChoice.NoIommu,
        _ => IommuChoice.Auto,
    };
    try
    {
        var report = DeviceCheck.Run(new CheckOptions(name, choice, result.GetValue(reset)));
        Console.Write(result.GetValue(json) ? JsonSerializer.Serialize(report, CheckJson.Default.CheckReport) + "\n" : report.ToText());
        return report.Failed == 0 ? Ok : Failed;
    }
    catch (DeviceNotReadyException e)
    {
        Console.Error.WriteLine($"vfio-check: {name}: {e.Message}");
        return NotReady;
    }
    catch (Exception e) when (e is SystemCallException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"vfio-check: {name}: {DeviceCheck.OneLine(e.Message)}");
        return Failed;
    }
});

var parse = root.Parse(args);
if (parse.Errors.Count == 0)
{
    return parse.Invoke();
}

// A parse error exits 2, not System.CommandLine's 1, which a script would read as a failed case.
foreach (var error in parse.Errors)
{
    Console.Error.WriteLine($"vfio-check: {string.Join(' ', error.Message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
}

Console.Error.WriteLine("vfio-check: see 'vfio-check --help'");
return Usage;
