using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Dma;
using Vfio.Platform.Iommufd;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>Several devices in one type1 container or one IOAS: the edu (memcpy), the nvme (IDENTIFY over
/// its admin queue) and, when given, the sdhci-pci (no DMA driver here: its registers answer). Run with
/// <c>--conformance EDU,NVME[,SDHCI]</c>, all bound to vfio-pci.</summary>
internal static partial class ConformanceRun
{
    public static readonly string[] SeveralCases = ["several.open_all", "several.dma_each", "several.release_one"];

    private const ulong NvmeQueuesIova = 0x80_0000; // clear of the edu's fixed IOVAs

    private sealed class NoOwner : IDisposable
    {
        public void Dispose()
        {
        }
    }

    /// <summary>The devices of one mode in one DMA space, each with what releases it (its device, and
    /// in a container its group too).</summary>
    private sealed class Several(IDmaSpace dma, IDisposable owner) : IDisposable
    {
        public IDmaSpace Dma { get; } = dma;

        public Dictionary<string, (VfioDevice Device, IDisposable Release)> Devices { get; } = [];

        public void Dispose()
        {
            foreach (var (device, release) in Devices.Values)
            {
                device.Dispose();
                release.Dispose();
            }

            owner.Dispose();
        }
    }

    private static int RunSeveral(string[] devices)
    {
        Put("conformance.devices", string.Join(",", devices));
        var edu = devices.FirstOrDefault(d => Vfio.Platform.Discovery.HostDevice.Find(d) is { VendorId: Edu.VendorId, DeviceId: Edu.DeviceId });
        var nvme = devices.FirstOrDefault(d => Vfio.Platform.Discovery.HostDevice.Find(d) is { VendorId: Nvme.VendorId, DeviceId: Nvme.DeviceId });
        if (edu is null || nvme is null)
        {
            Put("conformance.error", "several devices need the edu and the nvme");
            return 2;
        }

        foreach (var d in devices)
        {
            Put($"conformance.group.{d}", Vfio.Platform.Discovery.HostDevice.Find(d).IommuGroup?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
        }

        RunModes(IommuMode.For(edu), SeveralCases, mode => SeveralCasesIn(mode, devices, edu, nvme));
        Put("conformance.done", true);
        return 0;
    }

    private static Several OpenSeveral(IommuMode mode, string[] devices)
    {
        if (mode.Name == "iommufd")
        {
            var iommufd = IommufdContext.Open();
            var space = iommufd.CreateAddressSpace();
            var set = new Several(space, iommufd);
            foreach (var d in devices)
            {
                set.Devices[d] = (iommufd.OpenDevice(d, space), new NoOwner());
            }

            return set;
        }

        var container = VfioContainer.Open(new VfioContainerOptions { IommuType = mode.Name == "type1" ? VfioIommuType.Type1 : VfioIommuType.Type1v2 });
        var several = new Several(container, container);
        foreach (var d in devices)
        {
            var group = container.OpenGroupOf(d);
            several.Devices[d] = (group.OpenDevice(d), group);
        }

        return several;
    }

    private static void SeveralCasesIn(IommuMode mode, string[] devices, string edu, string nvme)
    {
        Several set;
        try
        {
            set = OpenSeveral(mode, devices);
            Detail("several.open_all", mode, "devices", set.Devices.Count);
            Record("several.open_all", mode.Name, set.Devices.Count == devices.Length ? "pass" : $"FAIL: {set.Devices.Count} of {devices.Length} opened");
        }
        catch (Exception e)
        {
            foreach (var name in SeveralCases)
            {
                Record(name, mode.Name, $"FAIL: opening the devices in one {(mode.Name == "iommufd" ? "IOAS" : "container")}: {Describe(e)}");
            }

            return;
        }

        using (set)
        {
            var eduSession = new Session(set.Devices[edu].Device, set.Dma, new NoOwner(), 0);
            var nvmeDevice = set.Devices[nvme].Device;
            Driver? driver = null;
            Nvme? controller = null;
            Nvme.Queues? queues = null;
            try
            {
                Step("several.dma_each", mode, () =>
                {
                    driver = new Driver(eduSession);
                    nvmeDevice.SetPciBusMaster(true);
                    controller = new Nvme(nvmeDevice);
                    queues = new Nvme.Queues(set.Dma, NvmeQueuesIova);
                    var memcpy = EduMemcpy(driver);
                    var identify = NvmeIdentify(controller, queues);
                    var others = devices.Where(d => d != edu && d != nvme).Select(d =>
                    {
                        using var config = set.Devices[d].Device.MapRegion(VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX);
                        return FormattableString.Invariant($"{d} {config.Read16(0):x4}:{config.Read16(2):x4}");
                    });
                    Detail("several.dma_each", mode, "others", string.Join(",", others.DefaultIfEmpty("none")));
                    return memcpy ?? identify ?? "pass";
                });

                Step("several.release_one", mode, () =>
                {
                    if (driver is null || controller is null || queues is null)
                    {
                        return "FAIL: several.dma_each did not set the devices up";
                    }

                    // Release the nvme (its mapping, device and, in a container, its group), then the edu
                    // must still copy through the same container or IOAS.
                    queues.Dispose();
                    queues = null;
                    controller.Dispose();
                    controller = null;
                    var (device, release) = set.Devices[nvme];
                    set.Devices.Remove(nvme);
                    device.Dispose();
                    release.Dispose();
                    var memcpy = EduMemcpy(driver);
                    Detail("several.release_one", mode, "left", string.Join(",", set.Devices.Keys));
                    return memcpy ?? "pass";
                });
            }
            finally
            {
                queues?.Dispose();
                controller?.Dispose();
                driver?.Dispose();
            }
        }
    }

    private static string? EduMemcpy(Driver driver)
    {
        driver.Fill((byte)'x', (byte)'y');
        Random.Shared.NextBytes(driver.Source.Span[..(int)CopySize]);
        return !driver.Edu.Memcpy(SourceIova, DestinationIova, CopySize, DmaTimeout) ? "FAIL: the edu's DMA did not finish"
            : !Same(driver.Destination[..(int)CopySize], driver.Source.Span[..(int)CopySize]) ? "FAIL: the edu's copy differs from the source" : null;
    }

    private static string? NvmeIdentify(Nvme controller, Nvme.Queues queues)
    {
        var vectors = controller.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX, 1);
        try
        {
            var failure = queues.Identify(controller, vectors[0], out _);
            return failure is not null ? $"FAIL: nvme: {failure}"
                : Nvme.Serial(queues.Data) != "vfio-net" ? $"FAIL: nvme IDENTIFY returned serial '{Nvme.Serial(queues.Data)}'" : null;
        }
        finally
        {
            vectors[0].Dispose();
        }
    }
}
