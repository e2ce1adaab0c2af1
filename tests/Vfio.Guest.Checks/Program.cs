using System.Diagnostics;
using System.Globalization;
using Vfio.Platform;
using Vfio.Platform.Discovery;
using Vfio.Platform.Dma;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Mmio;
using Vfio.Platform.Preparation;

// vfio-guest-checks DEVICE [--bind] [--noiommu] [--iommufd] [--release-request] [--interrupts N]
// vfio-guest-checks --abi
// vfio-guest-checks --conformance DEVICE[,DEVICE]   (the selftests' cases on QEMU's edu/nvme bound to vfio-pci, or on
//   ZynqMP GDMA channels bound to vfio-platform, e.g. fd500000.dma-controller,fd510000.dma-controller)
// vfio-guest-checks --conformance EDU_DEVICE --dma-mapping-only   (vfio_dma_mapping_test's cases only)
// --iommufd: open the device through its cdev and /dev/iommu instead of the group and the container.
// --release-request: at the end, unbind the device from its VFIO driver while it is open and check that the
//   library raises ReleaseRequested and that releasing the device in the handler lets the unbind finish.
// --bind: hand the device to VFIO with VfioDeviceBinding first, and give it back at the end.
// Prints one "key=value" line per observation; the host-side tests assert on them. Exit code 0 when
// every step ran (assertions are the host's job), 1 when a step threw unexpectedly.
if (args is ["--abi"])
{
    // The C# side of the ABI oracle on this machine's architecture (tests/Vfio.Rig.Tests compares it
    // with a C program cross-compiled from the same headers).
    Console.Write(Vfio.Native.Tests.NativeLayout.Print());
    return 0;
}

if (args is ["--conformance", var conformanceDevice])
{
    // The kernel selftests' cases on QEMU's edu and nvme, per IOMMU mode, or on the ZynqMP GDMA through
    // vfio-platform in no-IOMMU mode (Conformance/).
    var names = conformanceDevice.Split(',');
    return Directory.Exists($"/sys/bus/platform/devices/{names[0]}")
        ? Vfio.Guest.Checks.Conformance.ConformanceRun.RunPlatform(names)
        : Vfio.Guest.Checks.Conformance.ConformanceRun.Run(conformanceDevice);
}

if (args is ["--conformance", var dmaDevice, "--dma-mapping-only"])
{
    // Only vfio_dma_mapping_test's cases on the edu: the run in a guest with a 1 GiB huge page reserved.
    return Vfio.Guest.Checks.Conformance.ConformanceRun.Run(dmaDevice, dmaMappingOnly: true);
}

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: vfio-guest-checks DEVICE [--noiommu] [--interrupts N]");
    return 2;
}

var device = args[0];
var noIommu = args.Contains("--noiommu");
var bind = args.Contains("--bind");
var interrupts = args.SkipWhile(a => a != "--interrupts").Skip(1).Select(int.Parse).FirstOrDefault(20);
if (args.Contains("--iommufd"))
{
    return Checks.RunIommufd(device, bind, interrupts, args.Contains("--release-request"));
}

return Checks.Run(device, bind, noIommu, interrupts, args.Contains("--release-request"));

internal static class Checks
{
    // SDHCI (spec 3.00) registers used to cause a real interrupt: command complete on CMD0.
    private const int Argument = 0x08, Command = 0x0E, PresentState = 0x24, PowerControl = 0x29, ClockControl = 0x2C, SoftwareReset = 0x2F,
        NormalIntStatus = 0x30, NormalIntStatusEnable = 0x34, NormalIntSignalEnable = 0x38, Capabilities = 0x40, HostVersion = 0xFE;

    private static void Put(string key, object value) => Console.WriteLine(FormattableString.Invariant($"{key}={value}"));

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static int Run(string name, bool bind, bool noIommu, int interrupts, bool releaseRequest = false)
    {
        VfioDeviceBinding? binding = null;
        try
        {
            if (bind)
            {
                binding = VfioDeviceBinding.Bind(name);
                Put("bind.original", binding.OriginalDriver ?? "none");
                Put("bind.driver", binding.VfioDriver);
                Put("bind.group", binding.GroupPath);
            }

            Discover(name);

            using (var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu }))
            {
                Put("container.api", container.ApiVersion);
                Put("container.type1v2", container.CheckExtension(Vfio.Native.VfioUapi.VFIO_TYPE1v2_IOMMU));
                Put("container.noiommu", container.CheckExtension(Vfio.Native.VfioUapi.VFIO_NOIOMMU_IOMMU));
                var group = container.OpenGroupOf(name);
                Put("group.path", group.Path);
                Put("group.noiommu", group.IsNoIommu);
                Put("container.iommu", container.IommuType);
                var dev = group.OpenDevice(name);
                Put("device.platform", dev.IsPlatform);
                Put("device.pci", dev.IsPci);
                Put("device.regions", dev.RegionCount);
                Put("device.irqs", dev.IrqCount);
                Put("device.reset", dev.CanReset);
                for (var i = 0; i < dev.RegionCount; i++)
                {
                    try
                    {
                        var info = dev.GetRegionInfo(i);
                        Put($"region{i}.size", Hex(info.Size));
                        Put($"region{i}.flags", Hex(info.Flags));
                    }
                    catch (VfioException e)
                    {
                        Put($"region{i}.error", e.ErrnoName); // vfio-pci: the VGA region of a non-VGA device
                    }
                }

                for (var i = 0; i < dev.IrqCount; i++)
                {
                    try
                    {
                        var irq = dev.GetIrqInfo(i);
                        Put($"irq{i}.count", irq.Count);
                        Put($"irq{i}.flags", Hex(irq.Flags));
                        Put($"irq{i}.automasked", irq.IsAutomasked);
                    }
                    catch (VfioException e)
                    {
                        Put($"irq{i}.error", e.ErrnoName); // vfio-pci: the AER index of a conventional PCI device
                    }
                }

                Expect("region.out-of-range", () => dev.GetRegionInfo(dev.RegionCount + 5));
                Expect("irq.out-of-range", () => dev.GetIrqInfo(dev.IrqCount + 5));
                Expect("device.unknown", () => group.OpenDevice("no-such-device"));
                Expect("device.second-open", () => group.OpenDevice(name)); // the group interface allows it (open_count)
                Expect("group.busy", () => container.OpenGroupOf(name)); // one open per group: EBUSY

                using var regs = dev.MapRegion(0); // platform: the reg entry; PCI: BAR0
                Put("mmio.mapped", regs.IsMapped);
                Put("mmio.length", Hex((ulong)regs.Length));
                Put("sdhci.capabilities", Hex(regs.Read32(Capabilities) | ((ulong)regs.Read32(Capabilities + 4) << 32)));
                Put("sdhci.version", Hex(regs.Read16(HostVersion)));
                Expect("mmio.out-of-bounds", () => regs.Read32(regs.Length));

                ServiceInterrupts(dev, regs, interrupts);

                using var buffer = DmaBuffer.Allocate(64 * 1024);
                if (container.IommuType == VfioIommuType.NoIommu)
                {
                    Expect("dma.map", () => container.MapDma(buffer));
                }
                else
                {
                    var iommu = container.GetIommuInfo();
                    Put("iommu.pagesizes", Hex(iommu.PageSizes));
                    Put("iommu.ranges", string.Join(",", iommu.IovaRanges.Select(r => $"{Hex(r.Start)}-{Hex(r.End)}")));
                    using (var mapping = container.MapDma(buffer))
                    {
                        Put("dma.iova", Hex(mapping.Iova));
                    }

                    using var again = container.MapDma(buffer);
                    Put("dma.iova.reused", Hex(again.Iova));
                    HugePageDma(container);
                }
            }

            // The runtime opens descriptors of its own on first use (console, thread pool), so the
            // baseline is taken after one full cycle, and a second cycle must leave nothing behind.
            var fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
            var maps = File.ReadAllLines("/proc/self/maps").Length;
            Cycle(name, noIommu);
            Put("fds.leaked", Directory.GetFileSystemEntries("/proc/self/fd").Length - fds);
            Put("maps.leaked", File.ReadAllLines("/proc/self/maps").Length - maps);
            if (releaseRequest)
            {
                var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
                ReleaseRequest(name, container.OpenGroupOf(name).OpenDevice(name), container);
            }

            if (binding is not null)
            {
                binding.Restore();
                var driver = new FileInfo($"/sys/bus/{binding.Bus}/devices/{name}/driver").LinkTarget;
                Put("restore.driver", driver is null ? "none" : Path.GetFileName(driver));
            }

            Put("done", true);
            return 0;
        }
        catch (Exception e)
        {
            Put("error", e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
    }

    /// <summary>The same checks through the iommufd back-end: the device's cdev bound to /dev/iommu and
    /// attached to an I/O address space, DMA mapped through the IOAS.</summary>
    public static int RunIommufd(string name, bool bind, int interrupts, bool releaseRequest)
    {
        VfioDeviceBinding? binding = null;
        try
        {
            if (bind)
            {
                binding = VfioDeviceBinding.Bind(name);
                Put("bind.original", binding.OriginalDriver ?? "none");
                Put("bind.driver", binding.VfioDriver);
            }

            Discover(name);
            Put("iommufd.available", IommufdContext.IsAvailableFor(name));
            Put("iommufd.cdev", IommufdContext.FindCdev(name, new IommufdOptions()) ?? "none");
            using (var iommufd = IommufdContext.Open())
            {
                var space = iommufd.CreateAddressSpace();
                Put("ioas.id", space.Id);
                var dev = iommufd.OpenDevice(name, space);
                Put("device.group", dev.Group?.Path ?? "none");
                Put("device.dmaspace", dev.DmaSpace is IoAddressSpace ioas ? $"ioas {ioas.Id}" : "other");
                Put("device.pci", dev.IsPci);
                Put("device.regions", dev.RegionCount);
                Put("device.irqs", dev.IrqCount);
                Put("device.release-request", dev.CanRequestRelease);
                Expect("device.second-open", () => iommufd.OpenDevice(name)); // one cdev open at a time
                Expect("group.while-cdev", () =>
                {
                    using var container = VfioContainer.Open();
                    container.OpenGroupOf(name).OpenDevice(name);
                });

                using var regs = dev.MapRegion(0);
                Put("mmio.mapped", regs.IsMapped);
                Put("sdhci.capabilities", Hex(regs.Read32(Capabilities) | ((ulong)regs.Read32(Capabilities + 4) << 32)));
                Put("sdhci.version", Hex(regs.Read16(HostVersion)));
                ServiceInterrupts(dev, regs, interrupts);

                var iommu = space.GetIommuInfo();
                Put("iommu.pagesizes", Hex(iommu.PageSizes));
                Put("iommu.ranges", string.Join(",", iommu.IovaRanges.Select(r => $"{Hex(r.Start)}-{Hex(r.End)}")));
                using var buffer = DmaBuffer.Allocate(64 * 1024);
                using (var mapping = dev.DmaSpace!.MapDma(buffer))
                {
                    Put("dma.iova", Hex(mapping.Iova));
                    Put("dma.iova.in-range", iommu.IovaRanges.Any(r => mapping.Iova >= r.Start && mapping.Iova + (ulong)mapping.Length - 1 <= r.End));
                }

                using (var fixedMapping = space.MapDma(buffer, iova: 0x10_0000))
                {
                    Put("dma.fixed", Hex(fixedMapping.Iova));
                    Expect("dma.overlap", () => space.MapDma(buffer, iova: 0x10_0000));
                }

                HugePageDma(space);
            }

            var fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
            var maps = File.ReadAllLines("/proc/self/maps").Length;
            for (var i = 0; i < 3; i++)
            {
                using var iommufd = IommufdContext.Open();
                var dev = iommufd.OpenDevice(name);
                _ = dev.MapRegion(0).Read32(Capabilities);
                _ = dev.EnableInterrupt(0);
                using var buffer = DmaBuffer.Allocate(4096);
                _ = dev.DmaSpace!.MapDma(buffer);
                Expect("cycle.second-open", () => iommufd.OpenDevice(name));
                iommufd.Dispose(); // before the buffer: the mapping goes with the IOAS
            }

            Put("fds.leaked", Directory.GetFileSystemEntries("/proc/self/fd").Length - fds);
            Put("maps.leaked", File.ReadAllLines("/proc/self/maps").Length - maps);
            if (releaseRequest)
            {
                var iommufd = IommufdContext.Open();
                ReleaseRequest(name, iommufd.OpenDevice(name), iommufd);
            }

            if (binding is not null)
            {
                binding.Restore();
                var driver = new FileInfo($"/sys/bus/{binding.Bus}/devices/{name}/driver").LinkTarget;
                Put("restore.driver", driver is null ? "none" : Path.GetFileName(driver));
            }

            Put("done", true);
            return 0;
        }
        catch (Exception e)
        {
            Put("error", e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
    }

    /// <summary>A 2 MiB huge-page buffer mapped for DMA, where the kernel has hugetlbfs: reserve pages, map
    /// at an IOVA the allocator aligns to the buffer's page size, and check the pages are really huge.</summary>
    private static void HugePageDma(IDmaSpace space)
    {
        const string Reserve = "/proc/sys/vm/nr_hugepages";
        if (!File.Exists(Reserve))
        {
            Put("hugepages", "no hugetlbfs in this kernel");
            return;
        }

        File.WriteAllText(Reserve, "4");
        Put("hugepages.reserved", File.ReadAllText(Reserve).Trim());
        using var buffer = DmaBuffer.Allocate(3 << 20, hugePages: true); // rounds up to two 2 MiB pages
        Put("hugepages.length", Hex((ulong)buffer.Length));
        Put("hugepages.aligned", buffer.Address % (2 << 20) == 0);
        var huge = File.ReadAllLines("/proc/meminfo").First(l => l.StartsWith("HugePages_Free:", StringComparison.Ordinal));
        Put("hugepages.free-after-alloc", huge.Split(':')[1].Trim());
        using var mapping = space.MapDma(buffer);
        Put("hugepages.iova", Hex(mapping.Iova));
        buffer.Span[0] = 0x5A; // still ordinary memory for the CPU
        Put("hugepages.mapped", true);
    }

    /// <summary>What sysfs says about the device (HostDevice).</summary>
    private static void Discover(string name)
    {
        var host = HostDevice.Find(name);
        Put("discovery.bus", host.Bus);
        Put("discovery.driver", host.Driver ?? "none");
        Put("discovery.group", host.IommuGroup?.ToString(CultureInfo.InvariantCulture) ?? "none");
        Put("discovery.cdev", host.Cdev ?? "none");
        Put("discovery.compatible", string.Join(",", host.Compatible));
        Put("discovery.pci", host.VendorId is null ? "none" : FormattableString.Invariant($"{host.VendorId:x4}:{host.DeviceId:x4} class {host.ClassCode:x6}"));
    }

    /// <summary>Unbinds the open device from its VFIO driver (the write blocks in the kernel until the device
    /// is released) and releases it from the ReleaseRequested handler.</summary>
    private static void ReleaseRequest(string name, VfioDevice device, IDisposable owner)
    {
        using var requested = new ManualResetEventSlim();
        var requests = 0UL;
        device.ReleaseRequested += (_, e) =>
        {
            requests += e.Count;
            requested.Set();
            owner.Dispose();
        };
        var driver = Path.GetFileName(new FileInfo($"/sys/bus/pci/devices/{name}/driver").LinkTarget) ?? "none";
        var clock = Stopwatch.StartNew();
        var unbind = Task.Run(() => File.WriteAllText($"/sys/bus/pci/drivers/{driver}/unbind", name));
        Put("release.requested", requested.Wait(TimeSpan.FromSeconds(20)));
        Put("release.unbind-finished", unbind.Wait(TimeSpan.FromSeconds(20)));
        Put("release.ms", Math.Round(clock.Elapsed.TotalMilliseconds));
        Put("release.count", requests);
        var now = new FileInfo($"/sys/bus/pci/devices/{name}/driver").LinkTarget;
        Put("release.driver-after", now is null ? "none" : Path.GetFileName(now));
    }

    /// <summary>Opens everything there is to open and disposes it, for the leak count.</summary>
    private static void Cycle(string name, bool noIommu)
    {
        using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
        var device = container.OpenGroupOf(name).OpenDevice(name);
        var regs = device.MapRegion(0);
        _ = regs.Read32(Capabilities);
        _ = device.EnableInterrupt(0);
        try
        {
            container.OpenGroupOf(name); // the same group twice: EBUSY, nothing may leak
        }
        catch (VfioException)
        {
        }
    }

    /// <summary>Powers and clocks the controller, then sends CMD0 (no response) <paramref name="count"/>
    /// times; each completion raises the controller's interrupt, which is serviced the vfio way:
    /// wait on the eventfd, clear the status in the device (write 1 to clear), then unmask.</summary>
    private static void ServiceInterrupts(VfioDevice dev, MmioRegion regs, int count)
    {
        regs.Write8(SoftwareReset, 0x01); // reset all
        var deadline = Stopwatch.StartNew();
        while ((regs.Read8(SoftwareReset) & 0x01) != 0 && deadline.ElapsedMilliseconds < 1000)
        {
        }

        regs.Write8(PowerControl, 0x0F); // 3.3 V, bus power on
        regs.Write16(ClockControl, 0x8001); // divider 0x80 (identification speed), internal clock on
        while ((regs.Read16(ClockControl) & 0x0002) == 0 && deadline.ElapsedMilliseconds < 2000)
        {
        }

        regs.Write16(ClockControl, (ushort)(regs.Read16(ClockControl) | 0x0004)); // SD clock on
        regs.Write16(NormalIntStatusEnable, 0x0001); // command complete
        regs.Write16(NormalIntSignalEnable, 0x0001);
        regs.Write16(NormalIntStatus, 0xFFFF);
        Put("sdhci.present", Hex(regs.Read32(PresentState)));

        using var irq = dev.EnableInterrupt(0);
        var latencies = new List<double>(count);
        var serviced = 0;
        var lost = 0;
        for (var i = 0; i < count; i++)
        {
            regs.Write32(Argument, 0);
            var sent = Stopwatch.GetTimestamp();
            regs.Write16(Command, 0x0000); // CMD0, no response
            var fired = irq.Wait(TimeSpan.FromSeconds(2));
            var woke = Stopwatch.GetTimestamp();
            if (fired == 0)
            {
                lost++;
                continue;
            }

            var status = regs.Read16(NormalIntStatus);
            regs.Write16(NormalIntStatus, status); // clear the cause first ...
            if (irq.Info.IsAutomasked)
            {
                irq.Unmask(); // ... then unmask: the line is level-triggered
            }

            if ((status & 0x0001) != 0)
            {
                serviced++;
                latencies.Add(Stopwatch.GetElapsedTime(sent, woke).TotalMicroseconds);
            }
        }

        latencies.Sort();
        Put("irq.serviced", serviced);
        Put("irq.lost", lost);
        if (latencies.Count > 0)
        {
            Put("irq.p50_us", Math.Round(latencies[latencies.Count / 2], 1));
            Put("irq.p99_us", Math.Round(latencies[(int)(latencies.Count * 0.99)], 1));
            Put("irq.p999_us", Math.Round(latencies[(int)(latencies.Count * 0.999)], 1));
            Put("irq.max_us", Math.Round(latencies[^1], 1));
        }

        // Nothing pending now: a wait must time out rather than see a stale event.
        Put("irq.spurious", irq.Wait(TimeSpan.FromMilliseconds(50)));

        // The same through the asynchronous wait (the waiter thread's poll on the real eventfd).
        var asyncServiced = 0;
        for (var i = 0; i < 20; i++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var pending = irq.WaitAsync(timeout.Token).AsTask();
            regs.Write16(Command, 0x0000);
            try
            {
                pending.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                continue;
            }

            regs.Write16(NormalIntStatus, regs.Read16(NormalIntStatus));
            if (irq.Info.IsAutomasked)
            {
                irq.Unmask();
            }

            asyncServiced++;
        }

        Put("irq.async.serviced", asyncServiced);
    }

    private static void Expect(string key, Action action)
    {
        try
        {
            action();
            Put(key, "no error");
        }
        catch (VfioException e)
        {
            Put(key, e.ErrnoName);
        }
        catch (ArgumentException e)
        {
            Put(key, e.GetType().Name); // the caller's mistake, refused before the kernel is asked
        }
    }
}
