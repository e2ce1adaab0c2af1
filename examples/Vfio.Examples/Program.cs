using Vfio.Examples;

// vfio-examples EXAMPLE DEVICE [--noiommu]
// EXAMPLE: open, registers, interrupt, interrupt-async, dma, physical-dma, iommufd, bind, errors, all
// vfio-examples handover-send DEVICE SOCKET [--iommufd]   (root: opens DEVICE, sends it to SOCKET)
// vfio-examples handover-receive SOCKET                   (anyone: listens on SOCKET, uses what arrives)
// Each example is a method of Examples.cs and a snippet of docs/api-guide.md.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: vfio-examples open|registers|interrupt|interrupt-async|dma|physical-dma|iommufd|bind|errors|all DEVICE [--noiommu], handover-send DEVICE SOCKET [--iommufd], handover-receive SOCKET");
    return 2;
}

var device = args[1];
var noIommu = args.Contains("--noiommu");
string[] all = ["bind", "open", "registers", "interrupt", "interrupt-async", "dma", "iommufd", "errors"];
foreach (var example in args[0] == "all" ? all : [args[0]])
{
    Console.WriteLine($"== {example}");
    try
    {
        switch (example)
        {
            case "open": Examples.Open(device, noIommu); break;
            case "registers": Examples.Registers(device, noIommu); break;
            case "register-block": Examples.RegisterBlock(device, noIommu); break; // writes Host Control 2: not part of "all"
            case "interrupt": Examples.Interrupt(device, noIommu); break;
            case "interrupt-async": await Examples.InterruptAsync(device, noIommu).ConfigureAwait(false); break;
            case "dma": Examples.Dma(device); break;
            case "physical-dma": Examples.PhysicalDma(device); break; // no-IOMMU devices only: not part of "all"
            case "iommufd": Examples.IommufdDevice(device); break;
            case "bind": Examples.Bind(device, noIommu); break;
            case "errors": Examples.Errors(); break;
            case "handover-send": Examples.HandoverSend(device, args[2], args.Contains("--iommufd")); break; // two processes: not part of "all"
            case "handover-receive": Examples.HandoverReceive(device); break;
            case "quickstart": Examples.Quickstart(); break; // the ZynqMP board itself: not part of "all"
            default:
                Console.Error.WriteLine($"unknown example {example}");
                return 2;
        }
    }
    catch (Vfio.Platform.VfioException e)
    {
        Console.WriteLine($"error: {e.Message}");
        return 1;
    }
}

return 0;
